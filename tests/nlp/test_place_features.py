"""The reported place of a labelled file as features (issue 22, part 2): whose lawn it is
depends on the place, not on the words. Detection of the place columns, the block at
training, the territory stage's place at prediction, and a missing place (zero block)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
from typer.testing import CliRunner

from otklik.language import cli as nlp_cli
from otklik.nlp.features import place_fields, place_token
from otklik.nlp.training import TrainOptions, load_model, prepare_text, save_model, train

# The same words in both districts; who answers (the label) depends on the district only.
TEXTS = ["Листва на газоне", "Не убрана листва во дворе", "Мусор на газоне у дома",
         "Сломана скамейка во дворе", "Грязь на детской площадке", "Не покошена трава",
         "Сухие ветки на газоне", "Лужа во дворе не уходит"]
PLACES = {"Курчатовский район": "двор", "Льговский район": "парк"}


def _pairs() -> tuple[list[tuple[str, str]], list[list[str]]]:
    pairs: list[tuple[str, str]] = []
    places: list[list[str]] = []
    for place, label in PLACES.items():
        for text in TEXTS:
            for tail in ("", " опять", " срочно"):
                pairs.append((text + tail, label))
                places.append([place])
    return pairs, places


def test_place_columns_are_found_by_name_coverage_and_shared_values() -> None:
    records = [{"id": str(i), "text": "t", "label": "ab"[i % 2],
                "district": ("Невский", "Выборгский")[i % 2],
                "Municipality": f"округ {i % 3}",
                "address": f"ул. Мира, д. {i}",  # unique per line: not a shared place
                "city": "Тамбов" if i < 50 else "",  # on half of the lines only
                "town": "Тамбов",  # one value: says nothing
                "colour": ("red", "blue")[i % 2]}  # not a place name
               for i in range(100)]
    assert place_fields(records, exclude=("text", "label")) == ["district", "Municipality"]
    assert place_fields(records, exclude=("district",)) == ["Municipality"]
    assert place_fields([]) == []


def test_a_place_name_is_one_feature_whatever_its_spelling() -> None:
    assert place_token("Курчатовский  район") == place_token("курчатовский район")
    assert place_token("Посёлок Шушары") == place_token("поселок шушары")


def test_the_place_decides_where_the_words_cannot() -> None:
    pairs, places = _pairs()
    options = TrainOptions(folds=3)
    with_place = train(pairs, options, evaluate=False, label_field="category", places=places,
                       place_fields=["district"]).model
    assert with_place.place_fields == ["district"]
    # At prediction the place comes from the territory stage (the names it finds in the text).
    asked = ["Листва на газоне, Курчатовский район", "Листва на газоне, Льговский район"]
    assert with_place.predict(asked) == ["двор", "парк"]
    assert any(f.startswith("место:курчатовский")
               for f in with_place.top_features(asked[0], "двор", k=10))

    words_only = train(pairs, options, evaluate=False, label_field="category").model
    assert words_only.place_fields == []
    assert len(set(words_only.predict(asked))) == 1  # the words alone cannot tell them apart


def test_a_missing_or_unknown_place_is_a_zero_block() -> None:
    pairs, places = _pairs()
    model = train(pairs, TrainOptions(folds=3), evaluate=False, label_field="category",
                  places=places, place_fields=["district"]).model
    assert model._places is not None
    n_places = len(model._places.vocabulary)
    start = len(model._char.vocabulary_) + len(model._word.vocabulary_)  # type: ignore[union-attr]
    for text in ("Листва на газоне", "Листва на газоне, Невский район"):  # none / not trained
        x = model._features([prepare_text(text)], fit=False)
        assert x[:, start:start + n_places].nnz == 0
        proba = model.predict_proba([text])
        assert np.isfinite(proba).all() and abs(proba.sum() - 1.0) < 1e-6
    known = model._features([prepare_text("Листва на газоне, Льговский район")], fit=False)
    assert known[:, start:start + n_places].nnz == 1


def test_place_fields_survive_saving_and_old_models_have_none(tmp_path: Path) -> None:
    pairs, places = _pairs()
    model = train(pairs, TrainOptions(folds=3), evaluate=False, label_field="category",
                  places=places, place_fields=["district"]).model
    folder = save_model(model, tmp_path / "m")
    assert json.loads((folder / "model.json").read_text(encoding="utf-8"))["place_fields"] == [
        "district"]
    loaded = load_model(folder)
    asked = ["Листва на газоне, Льговский район"]
    assert loaded.predict(asked) == model.predict(asked) == ["парк"]
    # A model saved before place features has no such attributes: it predicts as before.
    words_only = train(pairs, TrainOptions(folds=3), evaluate=False).model
    before = words_only.predict_proba(asked)
    del words_only.place_fields, words_only._places
    assert np.allclose(words_only.predict_proba(asked), before)


def _app() -> typer.Typer:
    root = typer.Typer()
    nlp_cli.register(root)
    return root


def test_train_finds_the_place_columns_or_is_told_which(tmp_path: Path) -> None:
    pairs, places = _pairs()
    data = tmp_path / "reports.jsonl"
    data.write_text("".join(
        json.dumps({"text": text, "category": label, "district": where[0],
                    "address": f"дом {i}"}, ensure_ascii=False) + "\n"
        for i, ((text, label), where) in enumerate(zip(pairs, places, strict=True))),
        encoding="utf-8")
    runner = CliRunner()
    base = ["train", "--data", str(data), "--label-field", "category", "--no-eval"]
    found = runner.invoke(_app(), [*base, "--out", str(tmp_path / "auto")])
    assert found.exit_code == 0, found.output
    assert "место обращения: district" in " ".join(found.output.split())
    meta = json.loads((tmp_path / "auto" / "model.json").read_text(encoding="utf-8"))
    assert meta["place_fields"] == ["district"]

    off = runner.invoke(_app(), [*base, "--out", str(tmp_path / "off"), "--place-fields",
                                 "none"])
    assert off.exit_code == 0, off.output
    assert json.loads((tmp_path / "off" / "model.json").read_text(
        encoding="utf-8"))["place_fields"] == []

    named = runner.invoke(_app(), [*base, "--out", str(tmp_path / "n"), "--place-fields",
                                   "address"])
    assert named.exit_code == 0, named.output
    assert json.loads((tmp_path / "n" / "model.json").read_text(
        encoding="utf-8"))["place_fields"] == ["address"]

    missing = runner.invoke(_app(), [*base, "--out", str(tmp_path / "x"), "--place-fields",
                                     "district,rayon"])
    assert missing.exit_code != 0
    assert "--place-fields: в файле нет поля rayon" in " ".join(missing.output.split())
