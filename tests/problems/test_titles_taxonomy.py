"""Problem titles read the rubricator they are given: names and lexicon of that version
(no database; the active-version wiring is tested in tests/cases/test_problem_titles.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from otklik.nlp.taxonomy import Taxonomy, editing, load_taxonomy
from otklik.problems.clustering import CaseFeatures, ProblemIndex, ProblemState, title_for
from otklik.problems.clustering_text import _lexicon_phrases

T0 = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)
MICHURINSK = ("68", 68715, "город Мичуринск", 68715000001, "Мичуринск")
# Nothing in it names a roads thing: the title says the subtopic.
VAGUE = "Когда уже кто-нибудь ответит, сил нет терпеть это безобразие"
# «парапет» is no word of the packaged roads lexicon.
PARAPET = "Парапет совсем рассыпался, кто-нибудь ответит?"


def _version(**changes: str) -> Taxonomy:
    """The packaged rubricator with ``roads.bridges`` renamed and/or given lexicon lines."""
    document = load_taxonomy().to_dict()
    if "name" in changes:
        document = editing.rename(document, "roads.bridges", changes["name"])
    if "lexicon" in changes:
        lines = editing.format_lexicon(load_taxonomy()["roads.bridges"].lexicon)
        document = editing.set_lexicon(document, "roads.bridges",
                                       lines + "\n" + changes["lexicon"])
    document["version"] = changes.get("version", "r1")
    return Taxonomy.from_dict(document)


def _case(case_id: int, text: str, days: int = 0) -> CaseFeatures:
    region, muni, muni_name, settlement, settlement_name = MICHURINSK
    return CaseFeatures(case_id=case_id, created_at=T0 + timedelta(days=days), topic="roads",
                        subtopic="roads.bridges",
                        region=region, municipality_id=muni, settlement_id=settlement,
                        street=None, house=None, text=text, settlement_name=settlement_name,
                        municipality_name=muni_name)


def _title(index: ProblemIndex, text: str) -> str:
    assignment = index.assign(_case(1, text))
    assert assignment.is_new and assignment.problem_key
    return index.problems[assignment.problem_key].title


def test_packaged_titles_are_unchanged() -> None:
    packaged = load_taxonomy()
    assert _title(ProblemIndex(), VAGUE) == "Мосты, путепроводы, эстакады — Мичуринск"
    assert _title(ProblemIndex(taxonomy=packaged), VAGUE) == (
        "Мосты, путепроводы, эстакады — Мичуринск")
    assert _title(ProblemIndex(), PARAPET) == "Мосты, путепроводы, эстакады — Мичуринск"
    index = ProblemIndex()
    index.assign(_case(1, VAGUE))
    assert next(iter(index.problems.values())).title_taxonomy == packaged.version
    assert index.stale_titles() == []


def test_renamed_subtopic_names_new_problems() -> None:
    renamed = _version(name="Путепроводы и эстакады")
    assert _title(ProblemIndex(taxonomy=renamed), VAGUE) == "Путепроводы и эстакады — Мичуринск"
    # The packaged name is not overwritten by the other version's cache, and back again.
    assert _title(ProblemIndex(), VAGUE).startswith("Мосты, путепроводы")
    assert _title(ProblemIndex(taxonomy=renamed), VAGUE).startswith("Путепроводы и эстакады")


def test_added_lexicon_word_tells_problems_of_one_place_apart() -> None:
    richer = _version(lexicon="парапет 2")
    assert "парапет" in _lexicon_phrases("roads.bridges", richer)
    assert "парапет" not in _lexicon_phrases("roads.bridges")  # the packaged lexicon
    # Alone, a problem is named by its subtopic, whatever words its case uses.
    assert _title(ProblemIndex(taxonomy=richer), PARAPET) == (
        "Мосты, путепроводы, эстакады — Мичуринск")
    # Two problems of one subtopic and place (50 days apart, beyond the window): the new
    # rubricator word tells the parapet apart, the other keeps the day it began.
    for taxonomy, parapet in ((richer, "Мосты, путепроводы, эстакады: парапет — Мичуринск"),
                              (None, "Мосты, путепроводы, эстакады — Мичуринск (с 22 октября)")):
        index = ProblemIndex(taxonomy=taxonomy)
        first = index.assign(_case(1, VAGUE))
        second = index.assign(_case(2, PARAPET, days=50))
        assert second.is_new and second.problem_key != first.problem_key
        assert index.problems[second.problem_key or ""].title == parapet
        assert index.problems[first.problem_key or ""].title == (
            "Мосты, путепроводы, эстакады — Мичуринск (с 2 сентября)")
        assert index.retitled == {first.problem_key}


def test_switching_the_index_taxonomy_marks_titles_stale() -> None:
    index = ProblemIndex()
    index.assign(_case(1, VAGUE))
    state = next(iter(index.problems.values()))
    index.taxonomy = _version(name="Путепроводы и эстакады", version="r7")
    assert index.stale_titles() == [state]
    index.retitle(state)
    assert state.title == "Путепроводы и эстакады — Мичуринск"
    assert state.title_taxonomy == "r7" and index.stale_titles() == []
    # The version travels with the stored state; a state stored before carries none and
    # counts as titled with the packaged rubricator.
    restored = ProblemState.from_dict(state.to_dict())
    assert restored.title_taxonomy == "r7"
    legacy = ProblemState.from_dict({k: v for k, v in state.to_dict().items()
                                     if k != "title_taxonomy"})
    assert legacy.title_taxonomy is None
    assert title_for(legacy, None, index.taxonomy) == state.title
    packaged_index = ProblemIndex()
    packaged_index.add_problem(legacy)
    assert packaged_index.stale_titles() == []
    assert ProblemIndex.from_dict(index.to_dict(), taxonomy=index.taxonomy).stale_titles() == []
