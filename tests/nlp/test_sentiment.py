"""Sentiment: lexicon mode and model mode."""

from __future__ import annotations

import numpy as np
import pytest

from otklik.nlp.base import Doc
from otklik.nlp.normalize import NormalizeStage
from otklik.nlp.sentiment import LexiconFeatures, SentimentLexicon, SentimentStage

BAD_INPUTS = [
    "",
    "   ",
    "😂😂😂",
    bytes(range(256)).decode("latin-1") * 20,
    "Всё плохо, нет воды. " * 5_000,
    "This is terrible, nothing works",
]


def run(stage: SentimentStage, *texts: str) -> list[str]:
    docs = [Doc(id=str(i), text=t) for i, t in enumerate(texts)]
    NormalizeStage().process(docs)
    return [r.value for r in stage.process(docs)]


@pytest.fixture(scope="module")
def stage() -> SentimentStage:
    return SentimentStage()


@pytest.mark.parametrize(
    "text",
    [
        "Сколько можно терпеть это безобразие?! Ямы по колено 😡",
        "Лифт опять не работает, никому нет дела",
        "Ужасное состояние дорог, просто кошмар",
        "ппц, третий день без света, достали уже((",
        "НИЧЕГО НЕ ДЕЛАЮТ!!! Отписки одни",
        "Спасибо, конечно, но трубу так и не починили",
    ],
)
def test_negative(stage: SentimentStage, text: str) -> None:
    assert run(stage, text) == ["negative"]


@pytest.mark.parametrize(
    "text",
    [
        "Огромное спасибо администрации за быстрый ремонт!",
        "Молодцы, отлично сделали площадку, детям очень нравится",
        "Наконец-то поставили фонари, красота)))",
        "Благодарю водоканал за оперативность 👍",
        "Неплохо сделали, не плохо",
    ],
)
def test_positive(stage: SentimentStage, text: str) -> None:
    assert run(stage, text) == ["positive"]


@pytest.mark.parametrize(
    "text",
    [
        "Подскажите, пожалуйста, график вывоза мусора на улице Мира",
        "Добрый день! Прошу сообщить сроки ремонта дороги.",
        "Когда будет собрание жильцов?",
    ],
)
def test_neutral(stage: SentimentStage, text: str) -> None:
    assert run(stage, text) == ["neutral"]


def test_negation_flips_praise() -> None:
    lex = SentimentLexicon()
    assert lex.score("", ["не", "хорошо"]).net < 0
    assert lex.score("", ["хорошо"]).net > 0
    assert lex.score("", ["не", "очень", "хорошо"]).net < 0


def test_intensifier_strengthens() -> None:
    lex = SentimentLexicon()
    assert lex.score("", ["очень", "плохо"]).negative > lex.score("", ["плохо"]).negative


def test_explain_lists_matches(stage: SentimentStage) -> None:
    doc = Doc(id="1", text="Ужас, не работает освещение 😡")
    NormalizeStage().process([doc])
    res = stage.process([doc])[0]
    phrases = [p for p, _ in res.explain["matches"]]
    assert "ужас" in phrases and "не работает" in phrases
    assert res.explain["signals"]["emoji_neg"] == 1


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_bad_input(stage: SentimentStage, text: str) -> None:
    docs = [Doc(id="1", text=text)]
    NormalizeStage().process(docs)
    res = stage.process(docs)[0]
    assert res.value in {"negative", "neutral", "positive"}
    assert 0.0 <= res.confidence <= 1.0


class _FakeModel:
    """A pipeline-like object: says 'positive' when the text mentions "парк"."""

    classes_ = np.array(["negative", "neutral", "positive"])

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.array([[0.05, 0.05, 0.9] if "парк" in t else [0.35, 0.4, 0.25] for t in texts])


def test_model_mode_blends_with_lexicon() -> None:
    stage = SentimentStage(model=_FakeModel(), lexicon_weight=0.3)
    out = run(stage, "Новый парк открыли", "Ужас ужасный, кошмар, безобразие, позор!!!")
    assert out[0] == "positive"
    assert out[1] == "negative"  # the lexicon outweighs a lukewarm model


def test_model_failure_falls_back_to_lexicon() -> None:
    class Broken:
        classes_ = ["negative", "neutral", "positive"]

        def predict_proba(self, texts: list[str]) -> np.ndarray:
            raise RuntimeError("boom")

    assert run(SentimentStage(model=Broken()), "Огромное спасибо!") == ["positive"]


def test_lexicon_features_in_a_sklearn_pipeline() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["Спасибо, отлично!", "Ужас, ничего не работает", "Молодцы!", "Кошмар и позор"] * 3
    labels = ["positive", "negative", "positive", "negative"] * 3
    pipe = make_pipeline(LexiconFeatures(), LogisticRegression()).fit(texts, labels)
    assert list(pipe.predict(["Большое спасибо", "Безобразие"])) == ["positive", "negative"]
    stage = SentimentStage(model=pipe)
    assert run(stage, "Огромное спасибо за помощь") == ["positive"]
