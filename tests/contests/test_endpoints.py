"""Contests over HTTP: what an expert may reach (404 otherwise), the 409/422 of scoring, the
protocol files, the import report, and the public form's escaping and attachment limits."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login
from tests.contests.builders import a_panel, an_application

from otklik.config import get_settings
from otklik.models.account import Role
from otklik.models.contests import ContestApplication, ContestAttachment

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Attachments go to a temporary data folder."""
    monkeypatch.setenv("OTKLIK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _scores(panel: Any, values: tuple[int, int]) -> dict[str, Any]:
    return {"scores": [{"criterion_id": c, "value": v}
                       for c, v in zip(panel.criteria, values, strict=True)]}


def test_expert_reaches_only_assignments_and_scoring_errors(client: Any, session: Session
                                                            ) -> None:
    panel = a_panel(session, experts=2)
    mine = an_application(session, panel)
    other = an_application(session, panel, track=1, title="Чужой трек")
    base = f"/api/v1/contests/{panel.contest.id}"
    csrf = login(client, panel.experts[0].username, PASSWORD)
    headers = {"x-csrf-token": csrf}
    listed = client.get(f"{base}/applications").json()
    assert [a["id"] for a in listed["items"]] == [mine.id]
    assert listed["items"][0]["contact"] is None
    assert client.get(f"{base}/applications/{other.id}").status_code == 404
    assert client.post(f"{base}/applications/{other.id}/review", headers=headers,
                       json=_scores(panel, (5, 5))).status_code == 404
    assert client.get(f"{base}/results").status_code == 403
    # others' scores hidden until the expert submits
    panel.score(session, 1, mine.id, 7, 3)
    hidden = client.get(f"{base}/applications/{mine.id}/reviews")
    assert hidden.status_code == 403 and "submit your own scores" in hidden.json()["detail"]
    out = client.post(f"{base}/applications/{mine.id}/review", headers=headers,
                      json=_scores(panel, (11, 3)))
    assert out.status_code == 422 and "outside its scale 0–10" in out.json()["detail"]
    ok = client.post(f"{base}/applications/{mine.id}/review", headers=headers,
                     json=_scores(panel, (8, 4)))
    assert ok.status_code == 201, ok.text
    assert ok.json()["total"] == pytest.approx(8.0)  # (2·8 + 1·4/5·10) / 3
    again = client.post(f"{base}/applications/{mine.id}/review", headers=headers,
                        json=_scores(panel, (8, 4)))
    assert again.status_code == 409 and "already scored" in again.json()["detail"]
    shown = client.get(f"{base}/applications/{mine.id}/reviews").json()["items"]
    # the other expert: (2·7 + 1·3/5·10) / 3 = 20/3
    assert sorted(r["total"] for r in shown) == pytest.approx([20 / 3, 8.0], abs=1e-3)
    # the pages: the card lists only theirs; another contest's card is a 404
    page = client.get(f"/contests/{panel.contest.id}")
    assert page.status_code == 200 and "Чужой трек" not in page.text
    assert client.get(f"/contests/{panel.contest.id}/applications/{other.id}").status_code == 404
    assert client.get("/", follow_redirects=False).headers["location"] == "/contests"


def test_scoring_page_shows_errors_and_results_page(client: Any, session: Session) -> None:
    panel = a_panel(session, experts=1)
    app = an_application(session, panel)
    login(client, panel.experts[0].username, PASSWORD)
    csrf = client.get("/api/v1/auth/csrf").json()["csrf"]
    url = f"/contests/{panel.contest.id}/applications/{app.id}"
    form = {"csrf": csrf, f"score_{panel.criteria[0]}": "4", f"score_{panel.criteria[1]}": "9"}
    refused = client.post(f"{url}/review", data=form)
    assert refused.status_code == 422 and "outside its scale 0–5" in refused.text
    form[f"score_{panel.criteria[1]}"] = "5"
    # another contest's id in the path does not reach the application (as in the API)
    wrong = f"/contests/{panel.contest.id + 1}/applications/{app.id}"
    assert client.post(f"{wrong}/review", data=form, follow_redirects=False).status_code == 404
    assert client.post(f"{wrong}/conflict", data={"csrf": csrf, "reason": "родственник"},
                       follow_redirects=False).status_code == 404
    assert client.post(f"{url}/review", data=form, follow_redirects=False).status_code == 303
    assert client.post(f"{url}/review", data=form).status_code == 409
    client.post("/logout", data={"csrf": csrf})
    manager = make_user(session, Role.curator, ["68"])
    login(client, manager.username, PASSWORD)
    results = client.get(f"/contests/{panel.contest.id}/results")
    assert results.status_code == 200 and "Канал о Мичуринске" in results.text
    status = panel.contest.status
    listed = client.get("/api/v1/contests", params={"region_code": "68", "status": status})
    assert panel.contest.id in [c["id"] for c in listed.json()["items"]]
    other = "closed" if status != "closed" else "draft"
    assert panel.contest.id not in [c["id"] for c in client.get(
        "/api/v1/contests", params={"status": other}).json()["items"]]
    experts = client.get(f"/api/v1/contests/{panel.contest.id}/experts").json()
    track = experts["items"][0]["track_id"]
    assert experts["total"] == 1 and experts["items"][0]["user_id"] == panel.experts[0].id
    assert client.get(f"/api/v1/contests/{panel.contest.id}/experts",
                      params={"track_id": track + 10_000}).json()["total"] == 0


def test_protocol_exports_hold_the_ranking(client: Any, session: Session) -> None:
    from docx import Document
    from openpyxl import load_workbook

    panel = a_panel(session, experts=2, budget=300_000)
    low = an_application(session, panel, title="Слабый проект")
    high = an_application(session, panel, title="Сильный проект", minutes=1)
    for expert in (0, 1):
        panel.score(session, expert, low.id, 3, 2)
        panel.score(session, expert, high.id, 9, 5)
    csrf = login(client, make_user(session, Role.admin, ["68"]).username, PASSWORD)
    assert csrf
    base = f"/api/v1/contests/{panel.contest.id}/protocol"
    docx = client.get(f"{base}?format=docx")
    assert docx.status_code == 200
    text = "\n".join(cell.text for table in Document(io.BytesIO(docx.content)).tables
                     for row in table.rows for cell in row.cells)
    assert text.index("Сильный проект") < text.index("Слабый проект")
    paragraphs = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "«Видео»" in paragraphs and "недостаёт" in paragraphs  # 300k for 2 winners
    book = load_workbook(io.BytesIO(client.get(f"{base}?format=xlsx").content))
    sheet = book.worksheets[1]
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[1] in (low.id, high.id)]
    assert [(r[0], r[1]) for r in rows] == [(1, high.id), (2, low.id)]
    assert client.get(f"{base}?format=pdf").status_code == 422


def test_import_report_per_row(client: Any, session: Session, tmp_path: Path) -> None:
    from otklik.audit.actor import Actor
    from otklik.contests.importer import import_applications

    panel = a_panel(session, experts=1)
    table = tmp_path / "apps.csv"
    table.write_text("Трек;Заявитель;Проект;Сумма\n"
                     "Видео;Анна К.;Тамбов за кадром;200 000\n"
                     "2;Олег;Лонгриды о Моршанске;180000\n"
                     "Подкасты;Кто-то;Нет такого трека;100000\n"
                     "Видео;Б;Короткое имя;abc\n"
                     "Видео;В;Бесконечный проект;inf\n"
                     "Видео;Г;Огромный проект;1e999\n", encoding="utf-8")
    report = import_applications(session, Actor.system("tests"), panel.contest.id, table)
    assert report.created == 2 and report.duplicates == 0
    assert [(e.row, "трек" in e.error or "сумма" in e.error) for e in report.errors] == [
        (4, True), (5, True), (6, True), (7, True)]
    again = import_applications(session, Actor.system("tests"), panel.contest.id, table)
    assert again.created == 0 and again.duplicates == 2


def test_public_form_escapes_and_limits_attachments(client: Any, session: Session,
                                                    data_dir: Path) -> None:
    panel = a_panel(session, experts=1)
    page = client.get(f"/contests/{panel.contest.id}/apply")
    assert page.status_code == 200
    csrf = client.get("/api/v1/auth/csrf").json()["csrf"]
    hostile = "<script>alert(1)</script>"
    fields = {"csrf": csrf, "track_id": str(panel.tracks[0]), "applicant": hostile,
              "title": f"Блог {hostile}", "requested_rub": "250000", "summary": hostile}
    exe = client.post(f"/contests/{panel.contest.id}/apply", data=fields,
                      files=[("files", ("report.pdf", b"MZ\x90\x00binary", "application/pdf"))])
    assert exe.status_code == 422 and "not a pdf file" in exe.text
    assert hostile not in exe.text and "&lt;script&gt;" in exe.text
    big = client.post(f"/contests/{panel.contest.id}/apply", data=fields,
                      files=[("files", ("big.pdf", PDF + b"0" * (10 * 2**20), "x/y"))])
    assert big.status_code == 422 and "larger than 10 MB" in big.text
    many = client.post(f"/contests/{panel.contest.id}/apply", data=fields,
                       files=[("files", (f"{i}.pdf", PDF, "application/pdf"))
                              for i in range(6)])
    assert many.status_code == 422 and "at most 5 files" in many.text
    sent = client.post(f"/contests/{panel.contest.id}/apply", data=fields,
                       files=[("files", ("../../etc/План.pdf", PDF, "text/html"))])
    assert sent.status_code == 200 and "apply-sent" in sent.text
    application = session.scalars(select(ContestApplication).where(
        ContestApplication.contest_id == panel.contest.id)).one()
    assert application.applicant == hostile and application.source == "form"
    attachment = session.scalars(select(ContestAttachment).where(
        ContestAttachment.application_id == application.id)).one()
    assert attachment.filename == "План.pdf" and attachment.content_type == "application/pdf"
    assert (data_dir / "contests" / str(panel.contest.id) / attachment.stored_name
            ).read_bytes() == PDF
    url = (f"/api/v1/contests/{panel.contest.id}/applications/{application.id}"
           f"/attachments/{attachment.id}")
    assert client.get(url).status_code == 401  # nobody logged in
    outsider = make_user(session, Role.expert, ["68"])
    login(client, outsider.username, PASSWORD)
    assert client.get(url).status_code == 404
    login(client, panel.experts[0].username, PASSWORD)
    got = client.get(url)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    card = client.get(f"/contests/{panel.contest.id}/applications/{application.id}")
    assert hostile not in card.text and "&lt;script&gt;" in card.text
