"""The executor as a label (issue 22): the model sees the place and the topic the pipeline
finds, not only the words — so a village it never saw in training is routed to its
district's administration."""

from __future__ import annotations

import json
from pathlib import Path

from otklik.nlp.features import context_tokens, place_of
from otklik.nlp.training import TrainOptions, load_model, save_model, train

KURCHATOV = ["Берноломня", "Болваново", "Гупово", "Дичня", "Дарница", "Быки"]
LGOV = ["Большие Угоны", "Банищи", "Арсеньевка", "Вышние Деревеньки", "Глиница",
        "Букреево Бобрик"]
TEMPLATES = ["В селе {} яма на дороге, прошу отремонтировать",
             "Не вывозят мусор в селе {} уже неделю",
             "В селе {} нет уличного освещения",
             "Жители села {} просят починить мост через ручей"]


def _pairs(villages: list[str], executor: str) -> list[tuple[str, str]]:
    return [(t.format(v), executor) for v in villages for t in TEMPLATES]


def test_context_tokens_name_place_topic_and_both() -> None:
    place = place_of("В селе Гупово яма на дороге", "38")
    assert place[:2] == ("38", "38621")
    tokens = context_tokens(place, "roads")
    assert tokens[:3] == ["м:38621", "т:roads", "м×т:38621|roads"]
    assert tokens[3].startswith("н:38621")
    assert context_tokens((None, None, None), None) == ["м:?", "т:?", "м×т:?|?"]
    assert context_tokens(("38", None, None), "waste")[0] == "м:р:38"


def test_an_unseen_village_goes_to_its_districts_administration(tmp_path: Path) -> None:
    # Trained on four villages of each district; asked about the two it never saw.
    pairs = _pairs(KURCHATOV[:4], "Администрация Курчатовского района") + _pairs(
        LGOV[:4], "Администрация Льговского района")
    unseen = [TEMPLATES[0].format(v) for v in KURCHATOV[4:] + LGOV[4:]]
    truth = ["Администрация Курчатовского района"] * 2 + ["Администрация Льговского района"] * 2

    with_place = train(pairs, TrainOptions(folds=3), evaluate=False, label_field="executor")
    assert with_place.model.options.context_weight == 1.0  # on by default for the executor
    assert with_place.model.region_hint == "38"  # the region the texts name
    assert with_place.model.predict(unseen) == truth

    words_only = train(pairs, TrainOptions(folds=3, context_weight=0.0), evaluate=False,
                       label_field="executor")
    assert words_only.model.predict(unseen) != truth  # the words alone cannot know

    # The features are named in explanations and survive saving and loading.
    label = truth[0]
    assert any(f.startswith("контекст:") for f in
               with_place.model.top_features(unseen[0], label, k=10))
    folder = save_model(with_place.model, tmp_path / "executor")
    assert json.loads((folder / "model.json").read_text(encoding="utf-8"))["region_hint"] == "38"
    assert load_model(folder).predict(unseen) == truth


def test_other_label_fields_keep_the_text_features_only() -> None:
    pairs = _pairs(KURCHATOV[:3], "roads") + _pairs(LGOV[:3], "waste")
    result = train(pairs, TrainOptions(folds=3), evaluate=False, label_field="topic")
    assert result.model.options.context_weight == 0.0
    assert result.model.region_hint is None
