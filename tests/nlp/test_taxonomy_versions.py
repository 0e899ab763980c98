"""The rubricator an admin edits: document edits, versions, activation, rollback, the page."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login
from typer.testing import CliRunner

from otklik.audit.actor import Actor
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.language import taxonomy_service
from otklik.models.account import Role
from otklik.models.audit import AuditEntry
from otklik.nlp.taxonomy import editing, load_taxonomy

ADMIN = Actor.system("tests")
FOUNTAIN_TEXT = ("Здравствуйте! Фонтан в парке Победы не работает уже месяц, чаша фонтана "
                 "забита мусором. Когда починят фонтан?")


def _packaged() -> dict[str, Any]:
    return load_taxonomy().to_dict()


def _with_fountains(document: dict[str, Any]) -> dict[str, Any]:
    return editing.add_subtopic(document, "improvement", "fountains", "Фонтаны",
                                "Fountains", "normal",
                                "фонтан 3\nчаша фонтана 2.5\nфонтан не работать 3")


# -- editing the document (no database) ----------------------------------------------------------


def test_rename_and_urgency_edit_a_copy() -> None:
    original = _packaged()
    renamed = editing.rename(original, "roads.potholes", "  Ямы  на дорогах ", "")
    node = editing.validate(renamed)["roads.potholes"]
    assert node.name_ru == "Ямы на дорогах" and node.name_en == "Ямы на дорогах"
    assert load_taxonomy()["roads.potholes"].name_ru != "Ямы на дорогах"  # original untouched
    urgent = editing.set_urgency(original, "roads.potholes", "high")
    assert editing.validate(urgent)["roads.potholes"].urgency == "high"
    with pytest.raises(InvalidInput, match="срочность 'asap'"):
        editing.set_urgency(original, "roads.potholes", "asap")
    with pytest.raises(InvalidInput, match="нет темы или подтемы с кодом 'roads.nothing'"):
        editing.rename(original, "roads.nothing", "Что-то")
    with pytest.raises(InvalidInput, match="название не может быть пустым"):
        editing.rename(original, "roads", "   ")


def test_lexicon_lines_parse_weights_and_say_what_is_wrong() -> None:
    terms = editing.parse_lexicon(
        "Ямочный ремонт 2.5\nвыбоина; 2\nколдобина\n\n# comment\nЁлка 1,5")
    assert terms == {"ямочный ремонт": 2.5, "выбоина": 2.0, "колдобина": 1.0, "елка": 1.5}
    assert editing.parse_lexicon(editing.format_lexicon(terms)) == terms
    with pytest.raises(InvalidInput, match="строка 2: вес 50 — нужен от 0,1 до 10"):
        editing.parse_lexicon("яма 2\nяма большая 50")
    with pytest.raises(InvalidInput, match="строка 1: «12345» — нет слова"):
        editing.parse_lexicon("12345")
    with pytest.raises(InvalidInput, match="хотя бы один термин"):
        editing.parse_lexicon("\n  \n")


def test_add_subtopic_checks_code_and_duplicates() -> None:
    document = _with_fountains(_packaged())
    taxonomy = editing.validate(document)
    node = taxonomy["improvement.fountains"]
    assert node.name_en == "Fountains" and node.lexicon["чаша фонтана"] == 2.5
    assert taxonomy.topic("improvement.fountains").subtopics[-1].code == "improvement.fountains"
    with pytest.raises(InvalidInput, match="уже есть"):
        _with_fountains(document)
    with pytest.raises(InvalidInput, match="латинские буквы"):
        editing.add_subtopic(document, "improvement", "Фонтаны", "Фонтаны", lexicon_text="фонтан")
    with pytest.raises(InvalidInput, match="подтема"):
        editing.add_subtopic(document, "roads.potholes", "deep", "Глубокие", lexicon_text="яма")


def test_validate_lists_every_problem() -> None:
    document = _packaged()
    document["topics"][0]["urgency"] = "someday"
    document["topics"][1]["lexicon"] = {}
    with pytest.raises(InvalidInput) as caught:
        editing.validate(document)
    assert "срочность 'someday'" in caught.value.message
    assert "пустой лексикон" in caught.value.message


# -- versions in the database ----------------------------------------------------------------


def test_save_activate_and_roll_back(session: Session) -> None:
    assert taxonomy_service.active_taxonomy(session).version == load_taxonomy().version
    first = taxonomy_service.save_version(session, ADMIN, _with_fountains(_packaged()),
                                          "фонтаны")
    assert first.number == 1 and not first.active and first.document["version"] == "r1"
    assert "improvement.fountains" not in taxonomy_service.active_taxonomy(session)
    taxonomy_service.activate_version(session, ADMIN, 1)
    assert "improvement.fountains" in taxonomy_service.active_taxonomy(session)

    renamed = editing.rename(taxonomy_service.current_document(session), "improvement.fountains",
                             "Фонтаны и бассейны")
    second = taxonomy_service.save_version(session, ADMIN, renamed, "переименование",
                                           activate=True)
    assert second.number == 2 and second.active
    session.refresh(first)
    assert not first.active
    assert taxonomy_service.active_taxonomy(session).name("improvement.fountains") == (
        "Фонтаны и бассейны")

    taxonomy_service.activate_version(session, ADMIN, 1)  # the rollback
    assert taxonomy_service.active_taxonomy(session).name("improvement.fountains") == "Фонтаны"
    taxonomy_service.use_packaged(session, ADMIN)
    assert taxonomy_service.active_taxonomy(session).version == load_taxonomy().version
    assert [v.number for v in taxonomy_service.versions(session, ADMIN)] == [2, 1]
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "taxonomy_version")).all()
    assert actions.count("taxonomy.save") == 2 and actions.count("taxonomy.activate") == 4


def test_saving_refuses_bad_or_unchanged_documents(session: Session) -> None:
    broken = _packaged()
    broken["topics"][0]["subtopics"][0]["code"] = "waste.potholes"
    with pytest.raises(InvalidInput, match="подтема лежит в теме 'roads'"):
        taxonomy_service.save_version(session, ADMIN, broken)
    with pytest.raises(InvalidInput, match="не изменился"):
        taxonomy_service.save_version(session, ADMIN, _packaged())
    taxonomy_service.save_version(session, ADMIN, _with_fountains(_packaged()))
    with pytest.raises(InvalidInput, match="уже сохранён версией 1"):
        taxonomy_service.save_version(session, ADMIN, _with_fountains(_packaged()))
    with pytest.raises(NotFound, match="нет версии рубрикатора 7"):
        taxonomy_service.activate_version(session, ADMIN, 7)
    operator = make_user(session, Role.operator, ["68"])
    from otklik.accounts.service import actor_for

    with pytest.raises(Forbidden):
        taxonomy_service.save_version(session, actor_for(session, operator, None),
                                      _with_fountains(_packaged()))


def test_pipeline_uses_the_active_version(session: Session) -> None:
    before = taxonomy_service.pipeline_for(session).process([{"id": "1", "text": FOUNTAIN_TEXT}])
    assert (before[0]["subtopic"] or {}).get("code") != "improvement.fountains"
    document = editing.set_urgency(_with_fountains(_packaged()), "improvement.fountains", "high")
    taxonomy_service.save_version(session, ADMIN, document, activate=True)
    pipeline = taxonomy_service.pipeline_for(session)
    assert pipeline.taxonomy.version == "r1"
    after = pipeline.process([{"id": "1", "text": FOUNTAIN_TEXT}])[0]
    assert after["topic"]["code"] == "improvement"
    assert after["subtopic"]["code"] == "improvement.fountains"
    assert after["subtopic"]["name"] == "Фонтаны"
    assert after["urgency"]["topic_default"] == "high"
    assert taxonomy_service.pipeline_for(session) is pipeline  # built once per version
    taxonomy_service.use_packaged(session, ADMIN)
    assert taxonomy_service.pipeline_for(session).taxonomy.version == load_taxonomy().version


# -- the admin page --------------------------------------------------------------------------------


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found[1]


def test_admin_page_edits_saves_versions_and_restores(session: Session, client: Any) -> None:
    admin = make_user(session, Role.admin, ["68"])
    login(client, admin.username, PASSWORD)
    page = client.get("/admin/taxonomy?node=roads.potholes")
    assert page.status_code == 200
    assert "ямочный ремонт 2.5" in page.text and 'data-testid="lexicon-form"' in page.text
    csrf = _csrf(page.text)

    bad = client.post("/admin/taxonomy/lexicon", data={
        "csrf": csrf, "code": "roads.potholes", "terms": "яма 2\nяма большая 50",
        "activate": "1"})
    assert bad.status_code == 400 and "вес 50" in bad.text
    assert "яма большая 50" in bad.text  # the admin's input is kept for correction

    saved = client.post("/admin/taxonomy/lexicon", data={
        "csrf": csrf, "code": "roads.potholes", "terms": "яма 2\nвыбоина 2.5\nколдобина",
        "comment": "короче", "activate": "1"}, follow_redirects=True)
    assert saved.status_code == 200
    assert taxonomy_service.active_taxonomy(session)["roads.potholes"].lexicon == {
        "яма": 2.0, "выбоина": 2.5, "колдобина": 1.0}

    added = client.post("/admin/taxonomy/subtopic", data={
        "csrf": csrf, "topic": "improvement", "slug": "fountains",
        "name_ru": "Фонтаны <script>alert(1)</script>", "urgency": "low",
        "terms": "фонтан 3", "activate": "1"}, follow_redirects=True)
    assert added.status_code == 200
    assert "<script>alert(1)</script>" not in added.text  # names are escaped
    assert "Фонтаны &lt;script&gt;" in added.text
    assert taxonomy_service.active_taxonomy(session)["improvement.fountains"].urgency == "low"

    kept = client.post("/admin/taxonomy/rename", data={
        "csrf": csrf, "code": "roads", "name_ru": "Дороги и мосты"}, follow_redirects=True)
    assert kept.status_code == 200  # saved, not activated (the box was unticked)
    assert taxonomy_service.active_taxonomy(session).name("roads") == "Дороги"

    restore = client.post("/admin/taxonomy/activate", data={"csrf": csrf, "number": "1"},
                          follow_redirects=True)
    assert restore.status_code == 200
    assert "improvement.fountains" not in taxonomy_service.active_taxonomy(session)
    table = client.get("/admin/taxonomy").text
    assert 'data-testid="taxonomy-versions"' in table and "короче" in table

    packaged = client.post("/admin/taxonomy/activate", data={"csrf": csrf},
                           follow_redirects=True)
    assert packaged.status_code == 200
    assert taxonomy_service.active_taxonomy(session).version == load_taxonomy().version


def test_only_admins_edit_and_only_with_the_forms_token(session: Session, client: Any) -> None:
    operator = make_user(session, Role.operator, ["68"])
    csrf = login(client, operator.username, PASSWORD)
    page = client.get("/admin/taxonomy?node=roads")
    assert page.status_code == 200 and "Дороги" in page.text  # operators read the rubricator
    assert 'data-testid="rename-form"' not in page.text
    assert 'data-testid="taxonomy-versions"' not in page.text
    refused = client.post("/admin/taxonomy/rename", data={
        "csrf": csrf, "code": "roads", "name_ru": "Взлом", "activate": "1"})
    assert refused.status_code == 403
    assert taxonomy_service.active_taxonomy(session).name("roads") == "Дороги"
    admin = make_user(session, Role.admin, ["68"])
    login(client, admin.username, PASSWORD)
    forged = client.post("/admin/taxonomy/rename", data={
        "csrf": "forged", "code": "roads", "name_ru": "Взлом", "activate": "1"})
    assert forged.status_code == 403
    assert taxonomy_service.active_taxonomy(session).name("roads") == "Дороги"


# -- the CLI (no database needed for these) ------------------------------------------------------


def test_cli_exports_the_packaged_taxonomy_and_names_a_bad_file(tmp_path: Any) -> None:
    from otklik.cli import app

    runner = CliRunner()
    out = tmp_path / "taxonomy.json"
    result = runner.invoke(app, ["taxonomy", "export", "--packaged", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["version"] == load_taxonomy().version
    bad = tmp_path / "bad.json"
    bad.write_text("{\"topics\": [", encoding="utf-8")
    failed = runner.invoke(app, ["taxonomy", "import", str(bad)])
    assert failed.exit_code == 2 and "не JSON" in failed.output
