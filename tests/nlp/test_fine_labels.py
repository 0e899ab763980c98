"""A finer label nested in the trained one: detection, the fine SVM, the stacker, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
from scipy.sparse import csr_matrix
from typer.testing import CliRunner

from otklik.language import cli as nlp_cli
from otklik.nlp.fine_labels import FineScores, fine_key, nested_field
from otklik.nlp.training import TrainOptions, load_model, save_model, train

# (text, label, fine label): two unlike subjects inside each label.
ROWS = [
    ("Батареи холодные, отопления нет", "жкх", "отопление"),
    ("Радиаторы еле тёплые, в квартире холодно", "жкх", "отопление"),
    ("Отопление не включили, дети мёрзнут", "жкх", "отопление"),
    ("Холодные батареи в подъезде и квартирах", "жкх", "отопление"),
    ("Крыша течёт, заливает квартиру", "жкх", "кровля"),
    ("Протечка кровли после дождя, потолок мокрый", "жкх", "кровля"),
    ("С крыши капает на пятый этаж", "жкх", "кровля"),
    ("Кровля дырявая, вода в квартире", "жкх", "кровля"),
    ("Яма на дороге по ул. Ленина", "дороги", "ямы"),
    ("Разбитый асфальт, яма на яме", "дороги", "ямы"),
    ("Выбоины на проезжей части, колесо пробил", "дороги", "ямы"),
    ("Провал асфальта, огромная яма", "дороги", "ямы"),
    ("Не горит светофор на перекрёстке", "дороги", "светофоры"),
    ("Светофор сломан, машины едут наугад", "дороги", "светофоры"),
    ("Светофор мигает жёлтым третий день", "дороги", "светофоры"),
    ("Отключён светофор у школы", "дороги", "светофоры"),
    ("Мусор не вывозят неделю", "мусор", "вывоз"),
    ("Мусоровоз не приезжал с понедельника", "мусор", "вывоз"),
    ("Баки переполнены, вывоз сорван", "мусор", "вывоз"),
    ("Контейнеры не вывезли к выходным", "мусор", "вывоз"),
    ("Стихийная свалка за гаражами", "мусор", "свалка"),
    ("Свалка строительного мусора в лесу", "мусор", "свалка"),
    ("Кто-то вывалил покрышки у реки, свалка", "мусор", "свалка"),
    ("Незаконная свалка у дороги растёт", "мусор", "свалка"),
]
# Twice as many for training (the inner cross-validation needs ten texts per fold).
TRAIN = ROWS + [(f"{text}, ул. Мира", label, fine) for text, label, fine in ROWS]
# The stacker (and so the fine SVM) is used from this many texts (the default is 5,000).
SMALL = TrainOptions(folds=3, stacker_min_examples=10)


def test_a_nested_field_is_found_and_others_are_not() -> None:
    labels = [label for _t, label, _f in ROWS]
    records = [{"id": str(i), "text": text, "reason": fine, "city": ("Тамбов", "Курск")[i % 2],
                "sparse": "x" if i == 0 else ""}
               for i, (text, _label, fine) in enumerate(ROWS)]
    assert nested_field(records, labels, exclude=("text",)) == ("reason", 6)
    # No field refines the label: an id is unique per record, a town crosses the labels,
    # a field on one record is too rare.
    for record in records:
        del record["reason"]
    assert nested_field(records, labels, exclude=("text",)) is None
    assert nested_field([], [], ()) is None


def test_a_field_that_mostly_nests_is_found_and_a_mixed_one_is_not() -> None:
    labels = ["a"] * 60 + ["b"] * 60
    fine = [f"a{i % 3}" for i in range(60)] + [f"b{i % 3}" for i in range(60)]
    noisy = list(fine)
    noisy[0] = "b0"  # one record in 120: still a refinement (98 % agree)
    assert nested_field([{"f": v} for v in noisy], labels) == ("f", 6)
    mixed = [f"m{i % 4}" for i in range(120)]  # each value in both labels
    assert nested_field([{"f": v} for v in mixed], labels) is None


def test_fine_scores_are_the_best_fine_class_per_label() -> None:
    x = csr_matrix(np.array([[1.0, 0, 0], [0.9, 0, 0], [0, 1.0, 0], [0, 0.9, 0],
                             [0, 0, 1.0], [0, 0, 0.9]]))
    keys = [fine_key("A", "a1"), fine_key("A", "a1"), fine_key("A", "a2"), fine_key("A", "a2"),
            fine_key("B", None), fine_key("B", None)]
    model = FineScores(c=1.0).fit(x, keys, ["A", "B"])
    scores = model.scores(x)
    assert scores.shape == (6, 2)
    # Both unlike subjects of A score A above B; B's texts score B above A.
    assert (scores[:4, 0] > scores[:4, 1]).all()
    assert (scores[4:, 1] > scores[4:, 0]).all()
    assert sorted(model.parent.tolist()) == [0, 0, 1]


def test_training_with_a_fine_label_feeds_the_stacker(tmp_path: Path) -> None:
    pairs = [(text, label) for text, label, _f in TRAIN]
    fine = [f for _t, _l, f in TRAIN]
    result = train(pairs, SMALL, label_field="topic", fine_labels=fine, fine_field="reason")
    model = result.model
    assert model.fine_field == "reason" and model._fine is not None
    assert len(model._fine.parent) == 6
    n_lex = len(model.lexicon_codes)
    # The stacker sees 3 SVM scores + 3 fine scores + the lexicon.
    assert model._stacker.n_features_in_ == 3 + 3 + n_lex
    assert model.predict(["Батареи ледяные, отопления нет", "Свалка покрышек у реки"]) == [
        "жкх", "мусор"]
    save_model(model, tmp_path / "m", result.report)
    meta = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert meta["fine_label_field"] == "reason" and meta["fine_classes"] == 6
    loaded = load_model(tmp_path / "m")
    assert loaded.predict(["Светофор не работает"]) == model.predict(["Светофор не работает"])
    # Without the fine label: the stacker as before, no fine SVM.
    plain = train(pairs, SMALL, label_field="topic").model
    assert plain._fine is None and plain.fine_field is None
    assert plain._stacker.n_features_in_ == 3 + n_lex


def test_a_small_set_keeps_the_offsets_and_ignores_the_fine_label() -> None:
    pairs = [(text, label) for text, label, _f in TRAIN]
    model = train(pairs, TrainOptions(folds=3), label_field="topic",
                  fine_labels=[f for _t, _l, f in TRAIN], fine_field="reason").model
    assert model._stacker is None and model._fine is None and model.fine_field is None


def _app() -> typer.Typer:
    root = typer.Typer()
    nlp_cli.register(root)
    return root


def test_cli_finds_the_nested_field_and_names_a_missing_one(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"text": t, "category": label, "reason": f},
                                       ensure_ascii=False) + "\n" for t, label, f in ROWS),
                    encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(_app(), ["train", "--data", str(data), "--label-field", "category",
                                    "--folds", "3", "--no-baseline", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    # Found, and said to be unused on a set this small (the stacker needs 5,000 texts).
    assert "уточняющая метка reason (6 значений внутри category) не используется" in said
    meta = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert meta["fine_label_field"] is None
    result = runner.invoke(_app(), ["train", "--data", str(data), "--label-field", "category",
                                    "--fine-label-field", "theme", "--folds", "3",
                                    "--out", str(tmp_path / "m2")])
    assert result.exit_code != 0
    assert "нет поля theme" in result.output
    result = runner.invoke(_app(), ["train", "--data", str(data), "--label-field", "category",
                                    "--fine-label-field", "none", "--folds", "3",
                                    "--no-baseline", "--out", str(tmp_path / "m3")])
    assert result.exit_code == 0, result.output
    assert "уточняющая" not in result.output
