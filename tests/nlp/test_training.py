"""Training on a small synthetic labelled file, persistence and malformed-file errors."""

from __future__ import annotations

import bz2
import csv
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from otklik.nlp.training import (
    TrainingDataError,
    TrainOptions,
    load_model,
    macro_weighted_f1,
    read_labelled,
    read_labelled_lines,
    save_model,
    single_example_labels,
    train,
    tune_offsets,
)

CORPUS = {
    "дороги": [
        "Яма на дороге по ул. Ленина, д. 5", "Разбитый асфальт на перекрёстке",
        "Колдобины на трассе до райцентра", "Ямища у остановки, машины ломаются",
        "Дорогу в мкр Южный не ремонтировали 10 лет", "Провал асфальта на проезжей части",
        "Выбоины на ул. Мира, р-н рынка", "Ямочный ремонт сделали плохо, опять ямы",
    ],
    "жкх": [
        "Батареи холодные, отопления нет", "Нет горячей воды третий день",
        "УК не реагирует на заявки о протечке", "Крыша течёт, заливает квартиру",
        "Свет вырубили по всей улице", "В подъезде не убирают, грязь",
        "Капремонт дома затянули на год", "Канализация засорилась, вонь в подвале",
    ],
    "мусор": [
        "Мусорку не вывозят неделю", "Контейнерка переполнена, мусор на земле",
        "Стихийная свалка за гаражами", "Мусоровоз не приезжал с понедельника",
        "Баки сломаны, крышек нет", "ТКО вывозят раз в две недели",
        "Свалка строительного мусора в лесу", "Мусор у площадки разносит ветер",
    ],
}


def _pairs() -> list[tuple[str, str]]:
    return [(t, label) for label, texts in CORPUS.items() for t in texts]


@pytest.fixture(scope="module")
def trained():
    pairs = _pairs() + [("Грубость продавца в магазине", "торговля")]  # a one-example class
    return train(pairs, TrainOptions(folds=4), label_field="тема")


def test_report_has_every_figure(trained) -> None:
    report = trained.report
    assert report is not None and report.n == 25
    assert 0.0 < report.macro_f1 <= 1.0 and 0.0 < report.weighted_f1 <= 1.0
    assert report.accuracy > 0.6
    assert {c.label for c in report.per_class} == {"дороги", "жкх", "мусор", "торговля"}
    assert any("торговля" in note for note in report.notes)
    assert sum(c.support for c in report.per_class) == 25


def test_model_predicts_and_explains(trained) -> None:
    model = trained.model
    assert model.version.startswith("тема-")
    assert model.predict(["Огромная яма на дороге", "Не вывозят мусор из контейнеров"]) == [
        "дороги", "мусор"]
    proba = model.predict_proba(["Батареи ледяные, отопление не работает"])
    assert proba.shape == (1, 4) and abs(proba.sum() - 1) < 1e-6
    assert model.top_features("Огромная яма на дороге", "дороги")


def test_plain_baseline_on_the_same_folds() -> None:
    pairs = _pairs()
    result = train(pairs, TrainOptions(folds=4), baseline=True)
    assert result.report is not None and result.baseline is not None
    assert result.baseline.folds == result.report.folds == 4
    assert result.baseline.n == len(pairs)
    assert 0.0 < result.baseline.macro_f1 <= 1.0
    assert {c.label for c in result.baseline.per_class} == set(CORPUS)
    assert train(pairs, TrainOptions(folds=4)).baseline is None


def test_save_and_load(trained, tmp_path: Path) -> None:
    save_model(trained.model, tmp_path, trained.report, data_sha256="abc")
    meta = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert meta["version"] == trained.model.version
    assert meta["classes"] == trained.model.classes
    assert meta["metrics"]["macro_f1"] == trained.report.macro_f1
    assert meta["sklearn_version"] and meta["data_sha256"] == "abc" and meta["created"]
    again = load_model(tmp_path)
    texts = ["Контейнеры переполнены", "Ямы на дороге"]
    assert again.predict(texts) == trained.model.predict(texts)


def test_load_rejects_a_folder_without_model(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="model.joblib"):
        load_model(tmp_path)


def test_single_class_is_refused() -> None:
    with pytest.raises(TrainingDataError, match="два разных"):
        train([("Яма на дороге", "дороги"), ("Ещё яма", "дороги")])


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_csv_with_header_and_headerless(tmp_path: Path) -> None:
    rows = [["1", "Яма на дороге", "дороги"], ["2", "Мусор не вывозят", "мусор"]]
    with_header = _write_csv(tmp_path / "a.csv", [["id", "text", "topic"], *rows])
    assert read_labelled(with_header, "text", "topic") == [
        ("Яма на дороге", "дороги"), ("Мусор не вывозят", "мусор")]
    headerless = _write_csv(tmp_path / "b.csv", rows)
    assert len(read_labelled(headerless, "text", "topic", columns=["id", "text", "topic"])) == 2
    with pytest.raises(TrainingDataError, match="--columns"):
        read_labelled(headerless, "text", "topic")


def test_malformed_csv_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,text,topic\n1,Яма на дороге,дороги\n2,Мусор,мусор,лишнее\n",
                    encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"строка 3: 4 полей вместо 3"):
        read_labelled(path, "text", "topic")


def test_empty_label_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,topic\nЯма,дороги\nМусор,\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"строка 3: нет метки topic"):
        read_labelled(path, "text", "topic")


def test_every_unlabelled_line_is_named(tmp_path: Path) -> None:
    # The first record has the field (else the file is taken for a wrong --label-field).
    lines = [{"text": "Яма", "label": "дороги"}, {"text": "Мусор"},
             {"text": "Свалка", "label": "мусор"}, {"text": "Фонарь", "label": "  "},
             {"text": "Батареи", "label": None}]
    path = tmp_path / "part.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
                    encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"строки 2, 4, 5: нет метки label.*3 из 5"):
        read_labelled(path, "text", "label")


def test_single_example_labels_are_named_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("text,topic\nЯма,дороги\nМусор,мусор\nКолея,дороги\nГрубость,торговля\n"
                    "Свалка,мусор\n", encoding="utf-8")
    triples = read_labelled_lines(path, "text", "topic")
    assert triples[0] == (2, "Яма", "дороги")
    assert single_example_labels(triples) == {"торговля": 5}


def _gzip(path: Path, text: str) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(text)
    return path


def test_gzip_compressed_jsonl_csv_and_tsv(tmp_path: Path) -> None:
    rows = [("Яма на дороге", "дороги"), ("Мусор не вывозят", "мусор")]
    jsonl = _gzip(tmp_path / "a.jsonl.gz", "".join(
        json.dumps({"text": t, "category": c}, ensure_ascii=False) + "\n" for t, c in rows))
    csv_gz = _gzip(tmp_path / "a.CSV.GZ", "text,category\n" + "".join(
        f"{t},{c}\n" for t, c in rows))
    tsv_gz = _gzip(tmp_path / "a.tsv.gz", "".join(f"{t}\t{c}\n" for t, c in rows))
    assert read_labelled(jsonl, "text", "category") == rows
    assert read_labelled(csv_gz, "text", "category") == rows
    assert read_labelled(tsv_gz, "text", "category", columns=["text", "category"]) == rows


def test_unknown_compression_is_named(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match=r"сжатие xz \(\.xz\) не поддерживается"):
        read_labelled(tmp_path / "data.jsonl.xz")
    with pytest.raises(TrainingDataError, match=r"неизвестный формат \.xlsx внутри \.gz"):
        read_labelled(_gzip(tmp_path / "data.xlsx.gz", "x"))
    # A compressed file under a plain name, and a .gz that is something else.
    hidden = tmp_path / "data.jsonl"
    hidden.write_bytes(bz2.compress(b'{"text": "a", "label": "b"}\n'))
    with pytest.raises(TrainingDataError, match=r"файл сжат \(bzip2\)"):
        read_labelled(hidden)
    gz_named = tmp_path / "data2.jsonl"
    _gzip(gz_named, '{"text": "a", "label": "b"}\n')
    with pytest.raises(TrainingDataError, match=r"переименуйте его в data2\.jsonl\.gz"):
        read_labelled(gz_named)
    wrong = tmp_path / "data.csv.gz"
    wrong.write_bytes(bz2.compress(b"text,label\na,b\n"))
    with pytest.raises(TrainingDataError, match=r"расширение \.gz, но файл сжат bzip2"):
        read_labelled(wrong)


def test_truncated_gzip_names_the_problem(tmp_path: Path) -> None:
    whole = _gzip(tmp_path / "whole.jsonl.gz", "".join(
        json.dumps({"text": f"Яма номер {i}", "label": "дороги"}, ensure_ascii=False) + "\n"
        for i in range(2000)))
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    with pytest.raises(TrainingDataError, match="обрезанный gzip"):
        read_labelled(cut)


def test_malformed_jsonl_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "Яма", "label": "дороги"}\n{"text": "Мусор", "label": \n',
                    encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"строка 2: не JSON"):
        read_labelled(path, "text", "label")


def test_unknown_extension_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="неизвестный формат"):
        read_labelled(tmp_path / "data.xlsx")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"text,label\n\xff\xfe\x00\x81garbage,1\n")
    with pytest.raises(TrainingDataError, match="UTF-8"):
        read_labelled(binary, "text", "label")


# --- choices made inside the training set (C, per-class offsets) --------------------------
PLACES = ["на ул. Ленина", "в мкр Северный", "у д. 12 по ул. Мира", "в Льговском р-не",
          "возле школы №5", "на Московском пр-те", "в пос. Косиново"]
PROBLEMS = {
    "дороги": ["огромная яма на дороге", "разбитый асфальт, колёса пробиваем",
               "дорогу не ремонтируют, сплошные выбоины"],
    "жкх": ["нет горячей воды", "батареи еле тёплые, в квартире холодно",
            "течёт крыша, заливает подъезд"],
    "мусор": ["мусорные баки переполнены", "не вывозят мусор вторую неделю",
              "свалка за гаражами растёт"],
    "освещение": ["не горят фонари, темно"],  # a small class
}


def _generated_pairs() -> list[tuple[str, str]]:
    return [(f"{problem.capitalize()} {place}", label)
            for label, problems in PROBLEMS.items()
            for problem in problems for place in PLACES]


def test_macro_weighted_f1_matches_sklearn() -> None:
    from sklearn.metrics import f1_score

    y = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    pred = np.array([0, 1, 0, 1, 2, 2, 2, 0, 2, 1])
    expected = (f1_score(y, pred, average="macro", zero_division=0)
                + f1_score(y, pred, average="weighted", zero_division=0))
    assert macro_weighted_f1(y, pred, 4) == pytest.approx(expected)


def test_offsets_lift_an_underscored_class() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 30, 10])
    scores = rng.normal(0, 0.2, (100, 3))
    scores[np.arange(100), y] += 1.0
    scores[y == 2, 2] -= 1.1  # the small class is systematically under-scored
    before = macro_weighted_f1(y, scores.argmax(axis=1), 3)
    offsets = tune_offsets(scores, y)
    after = macro_weighted_f1(y, (scores + offsets).argmax(axis=1), 3)
    assert after > before
    assert offsets[2] - max(offsets[0], offsets[1]) > 0.3  # only differences matter
    recall_before = (scores.argmax(axis=1)[y == 2] == 2).mean()
    assert ((scores + offsets).argmax(axis=1)[y == 2] == 2).mean() >= recall_before + 0.3


def test_tuned_model_records_its_choices(tmp_path: Path) -> None:
    pairs = _generated_pairs()
    options = TrainOptions(folds=3, c_grid=(0.1, 0.3), inner_folds=3)
    result = train(pairs, options, label_field="тема")
    model = result.model
    assert model.c_used in (0.1, 0.3)
    assert model.offsets is not None and len(model.offsets) == len(model.classes)
    assert result.report is not None and result.report.accuracy > 0.8
    assert model.predict(["Не горят фонари на ул. Мира, темно", "Опять яма на дороге"]) == [
        "освещение", "дороги"]
    save_model(model, tmp_path, result.report)
    meta = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert meta["c"] == model.c_used and set(meta["class_offsets"]) == set(model.classes)
    assert meta["class_weight"] == model.class_weight_used in ("balanced", None)


def test_inner_search_tries_the_unweighted_svm(monkeypatch: pytest.MonkeyPatch) -> None:
    import otklik.nlp.training as training

    tried: list[tuple[float, str | None]] = []
    real = training.fit_svm

    def spy(x, y, c, class_weight):  # type: ignore[no-untyped-def]
        tried.append((c, class_weight))
        return real(x, y, c, class_weight)

    monkeypatch.setattr(training, "fit_svm", spy)
    model = train(_generated_pairs(), TrainOptions(c_grid=(0.1, 0.3), unweighted_c_grid=(0.3,)),
                  evaluate=False).model
    assert set(tried) == {(0.1, "balanced"), (0.3, "balanced"), (0.3, None)}
    assert tried[-1] == (model.c_used, model.class_weight_used)  # the final fit: the winner
    tried.clear()
    train(_generated_pairs(), TrainOptions(c_grid=(0.1,), unweighted_c_grid=()), evaluate=False)
    assert set(tried) == {(0.1, "balanced")}


def test_stacker_over_svm_and_lexicon_scores(tmp_path: Path) -> None:
    pairs = _generated_pairs()
    result = train(pairs, TrainOptions(folds=3, stacker_min_examples=10), label_field="тема")
    model = result.model
    assert model._stacker is not None and model.offsets is None
    assert result.report is not None and result.report.accuracy > 0.8
    texts = ["Не горят фонари на ул. Мира, темно", "Опять яма на дороге"]
    assert model.predict(texts) == ["освещение", "дороги"]
    proba = model.predict_proba(texts)
    assert proba.shape == (2, 4) and np.allclose(proba.sum(axis=1), 1)
    proba_explained, features = model.predict_explained(
        texts, [t.lower().split() for t in texts], [t.lower().split() for t in texts])
    assert proba_explained.shape == (2, 4) and all(features)
    save_model(model, tmp_path, result.report)
    assert load_model(tmp_path).predict(texts) == model.predict(texts)
    meta = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert meta["stacker"] == "logreg" and meta["class_offsets"] is None
    # Below the size threshold (the default 5,000 texts): no stacker, the offsets stay.
    small = train(pairs, TrainOptions(folds=3), evaluate=False).model
    assert small._stacker is None and small.offsets is not None


def test_both_class_weights_sum_into_one_linear_model() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from otklik.nlp.training import fit_svm

    texts = [t for t, _ in _generated_pairs()]
    y = np.array([label for _, label in _generated_pairs()], dtype=object)
    x = TfidfVectorizer().fit_transform(texts)
    both = fit_svm(x, y, 0.3, "both").decision_function(x)
    plain = LinearSVC(C=0.3).fit(x, y).decision_function(x)
    balanced = LinearSVC(C=0.3, class_weight="balanced").fit(x, y).decision_function(x)
    assert np.allclose(both, plain + balanced)


def test_model_saved_before_offsets_still_predicts(trained) -> None:
    model = trained.model
    expected = model.predict_proba(["Мусор не вывозят"])
    offsets = model.offsets
    del model.offsets  # what unpickling a model from before the offsets gives
    try:
        raw = model.predict_proba(["Мусор не вывозят"])
        assert raw.shape == expected.shape and abs(raw.sum() - 1) < 1e-6
    finally:
        model.offsets = offsets


def test_fixed_c_without_offsets_skips_the_inner_search() -> None:
    result = train(_generated_pairs(), TrainOptions(folds=3, c=0.5, tune_offsets=False),
                   evaluate=False)
    assert result.model.c_used == 0.5 and result.model.offsets is None
