"""The rubricator as data: shipped content, lookup, round trip and validation errors."""

from __future__ import annotations

import copy

import pytest

from otklik.nlp.taxonomy import URGENCY_LEVELS, Taxonomy, TaxonomyError, load_taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def test_shipped_taxonomy_covers_what_centres_see(taxonomy: Taxonomy) -> None:
    assert taxonomy.version
    assert 18 <= len(taxonomy.topics) <= 25
    assert 120 <= len(taxonomy.subtopic_codes) <= 200
    for code in ("roads", "housing", "utilities", "improvement", "waste", "health", "education",
                 "transport", "social", "ecology", "safety", "communications", "culture_sport",
                 "trade", "employment", "construction", "agriculture", "government", "other"):
        assert code in taxonomy, code
    for code in ("roads.potholes", "roads.snow", "housing.capital_repair", "utilities.heating",
                 "utilities.power", "waste.container_sites", "social.svo_families",
                 "ecology.stray_animals"):
        assert code in taxonomy, code


def test_every_node_is_well_formed(taxonomy: Taxonomy) -> None:
    for node in taxonomy:
        assert node.lexicon, node.code
        assert node.urgency in URGENCY_LEVELS
        assert all(1 <= m <= 12 for m in node.seasonality)
        assert node.name_ru and node.name_en
    assert taxonomy["roads.snow"].in_season(1) and not taxonomy["roads.snow"].in_season(7)
    assert taxonomy["utilities.heating"].in_season(10)


def test_slang_and_abbreviations_are_in_the_lexicon(taxonomy: Taxonomy) -> None:
    terms = {t for node in taxonomy for t in node.lexicon}
    for term in ("ямища", "колдобина", "гололед", "не чистить снег", "мусорка", "контейнерка",
                 "тко", "рэс", "свет вырубить", "жкх", "ук", "капремонт"):
        assert term in terms, term


def test_lookup(taxonomy: Taxonomy) -> None:
    sub = taxonomy["roads.potholes"]
    assert sub.topic_code == "roads"
    assert taxonomy.topic("roads.potholes").code == "roads"
    assert taxonomy.name("roads", "en") == "Roads"
    assert taxonomy.get("no.such") is None
    with pytest.raises(KeyError, match="no.such"):
        taxonomy["no.such"]


def test_round_trip(taxonomy: Taxonomy) -> None:
    again = Taxonomy.from_dict(taxonomy.to_dict())
    assert again.to_dict() == taxonomy.to_dict()
    assert again.subtopic_codes == taxonomy.subtopic_codes


def _minimal() -> dict:
    return {
        "version": "test-1",
        "topics": [
            {"code": "roads", "name_ru": "Дороги", "lexicon": {"дорога": 1.0},
             "subtopics": [{"code": "roads.potholes", "name_ru": "Ямы",
                            "lexicon": {"яма": 2.0}, "urgency": "normal"}]},
            {"code": "waste", "name_ru": "Мусор", "lexicon": ["мусор"]},
        ],
    }


def test_flat_subtopics_from_database_rows() -> None:
    data = _minimal()
    data["subtopics"] = [{"code": "waste.dumps", "topic": "waste", "name_ru": "Свалки",
                          "lexicon": {"свалка": 2}}]
    tax = Taxonomy.from_dict(data)
    assert tax["waste.dumps"].lexicon == {"свалка": 2.0}
    assert tax["waste"].lexicon == {"мусор": 1.0}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["topics"].append(copy.deepcopy(d["topics"][1])), "повторяется"),
        (lambda d: d["topics"][0]["subtopics"][0].update(lexicon={}), "пустой лексикон"),
        (lambda d: d["topics"][0].update(urgency="urgent"), "срочность"),
        (lambda d: d["topics"][0]["subtopics"][0].update(code="waste.potholes"), "подтема"),
        (lambda d: d.update(subtopics=[{"code": "parks.x", "topic": "parks", "name_ru": "X",
                                        "lexicon": {"x": 1}}]), "несуществующую тему"),
        (lambda d: d.update(version=""), "version"),
        (lambda d: d["topics"][1].update(seasonality=[13]), "seasonality"),
        (lambda d: d["topics"][1].update(lexicon={"мусор": -1}), "вес"),
    ],
)
def test_validation_errors_are_clear(mutate, message: str) -> None:
    data = _minimal()
    mutate(data)
    with pytest.raises(TaxonomyError, match=message) as info:
        Taxonomy.from_dict(data)
    assert info.value.errors


def test_all_errors_reported_at_once() -> None:
    data = _minimal()
    data["topics"][0]["urgency"] = "soon"
    data["topics"][1]["lexicon"] = {}
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.from_dict(data)
    assert len(info.value.errors) == 2
