"""The fast TF-IDF transforms give the matrices scikit-learn's vectorizers give."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from otklik.nlp.features import CharWordCache, LemmaNgramIndex, lemma_ngram_tfidf
from otklik.nlp.morph import lemmatize, tokenize
from otklik.nlp.training import TextClassifier, TrainOptions, prepare_text

TRAIN = [
    "Третий день нет воды в доме 5 по ул. Ленина, водоканал трубку не берёт!",
    "Огромные ямы на дороге в мкр Северный, машины ломают подвеску.",
    "Мусор не вывозят вторую неделю, контейнерная площадка переполнена.",
    "Батареи еле тёплые, в квартире +15, УК отвечает, что всё по нормативу.",
    "Ямочный ремонт сделали кое-как, через месяц ямы снова на дороге.",
    "Водоканал отключил воду без предупреждения, дети без воды.",
    "Контейнеры не вывозят, крысы бегают по двору, примите меры.",
    "Отопление не работает, батареи ледяные, управляющая компания молчит.",
]
TEST = [
    "В с. Ивановка Льговского р-на нет воды уже неделю!!! Помогите",
    "ДОРОГА разбита, ямы по колено, асфальт не ремонтировали 10 лет",
    "мусорку не вывозят, контейнерка переполнена 😡 кошмар",
    "",
    "   ",
    "Spam spam http://example.com купить дёшево",
]


def _fitted(**params: object) -> TfidfVectorizer:
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                          min_df=1, dtype=np.float32, **params)
    return vec.fit([t.lower() for t in TRAIN])


def test_char_cache_equals_vectorizer_transform() -> None:
    vec = _fitted()
    cache = CharWordCache(vec)
    texts = [t.lower() for t in TEST + TRAIN]
    expected = vec.transform(texts)
    for _ in range(2):  # cold, then from the cached words
        got = cache.transform(texts)
        assert got.shape == expected.shape
        assert abs(got - expected).max() < 1e-6
    assert len(cache) > 0


def test_char_cache_bound_refills_and_stays_exact() -> None:
    vec = _fitted()
    cache = CharWordCache(vec, max_words=10)
    for text in TEST + TRAIN:
        got = cache.transform([text.lower()])
        assert abs(got - vec.transform([text.lower()])).max() < 1e-6
        assert len(cache) <= max(10, len(text.split()))


def test_char_cache_rejects_other_analyzers() -> None:
    with pytest.raises(ValueError):
        CharWordCache(TfidfVectorizer().fit(TRAIN))


@pytest.mark.parametrize("ngrams", [(1, 1), (1, 2), (1, 3)])
def test_lemma_ngrams_equal_vectorizer_on_joined_lemmas(ngrams: tuple[int, int]) -> None:
    lemma_lists = [lemmatize(tokenize(t)) for t in TRAIN]
    vec = TfidfVectorizer(ngram_range=ngrams, sublinear_tf=True, token_pattern=r"\S+",
                          dtype=np.float32).fit([" ".join(lm) for lm in lemma_lists])
    test_lists = [lemmatize(tokenize(t)) for t in TEST + TRAIN]
    expected = vec.transform([" ".join(lm) for lm in test_lists])
    index = LemmaNgramIndex(vec) if ngrams != (1, 3) else None
    got = lemma_ngram_tfidf(vec, test_lists, index)
    assert abs(got - expected).max() < 1e-6
    # "нет вода" is a bigram of the training texts and of the first test text.
    if ngrams[1] >= 2:
        col = vec.vocabulary_["нет вода"]
        assert got[0, col] > 0


def test_model_top_features_are_the_strongest_contributions() -> None:
    labels = ["water", "roads", "waste", "heating", "roads", "water", "waste", "heating"]
    model = TextClassifier(TrainOptions(inner_folds=0, c=0.5)).fit(TRAIN, labels)
    prepared = [prepare_text(t) for t in TEST[:3]]
    x = model._features(prepared, fit=False).tocsr()
    best = np.argmax(model._scores(x), axis=1)
    tops = model._top_features(x, best, 4)
    names = model._feature_names()
    for i, top in enumerate(tops):
        start, end = x.indptr[i], x.indptr[i + 1]
        contrib = dict(zip(x.indices[start:end],
                           x.data[start:end] * model._svm.coef_[best[i], x.indices[start:end]],
                           strict=True))
        by_name = {names[j]: v for j, v in contrib.items()}
        values = [by_name[n] for n in top]
        assert values == sorted(values, reverse=True) and all(v > 0 for v in values)
        strongest = sorted((v for v in contrib.values() if v > 0), reverse=True)[: len(top)]
        assert np.allclose(values, strongest)
    assert model.classes[int(best[0])] == "water"


def test_char_cache_is_exact_under_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    vec = _fitted()
    cache = CharWordCache(vec, max_words=25)  # small: threads also force refills
    texts = [t.lower() for t in TEST + TRAIN]
    expected = [vec.transform([t]) for t in texts]

    def one(i: int) -> float:
        got = cache.transform([texts[i % len(texts)]])
        return float(np.abs(got.toarray() - expected[i % len(texts)].toarray()).max())

    with ThreadPoolExecutor(8) as pool:
        assert max(pool.map(one, range(400))) < 1e-6
