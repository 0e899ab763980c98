"""The public application form of a contest (no login): the applicant's text is stored as
typed and always shown escaped; attachments are held to the limits of
:mod:`otklik.contests.attachments` before anything is kept."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from otklik.bounds import RefId
from otklik.contests import attachments, service
from otklik.contests.schemas import ApplicationCreate, ContestRead
from otklik.deps import SessionDep, check_csrf
from otklik.errors import NotFound, OtklikError
from otklik.web.rendering import locale_of, render

router = APIRouter(include_in_schema=False)


def _contest(session: Session, contest_id: int) -> ContestRead:
    for contest in service.open_contests(session):
        if contest.id == contest_id:
            return contest
    raise NotFound(f"contest {contest_id} does not take applications")


def _form(request: Request, contest: ContestRead, status_code: int = 200,
          **context: object) -> Response:
    locale = locale_of(request)

    def c(ru: str, en: str) -> str:
        return ru if locale == "ru" else en

    return render(request, "contests/apply.html", {
        "contest": contest, "c": c, "max_files": attachments.MAX_FILES,
        "max_mb": attachments.MAX_FILE_BYTES // 2**20,
        "types": ", ".join(sorted(attachments.ALLOWED)), "values": {}, **context},
        status_code=status_code)


@router.get("/contests/{contest_id}/apply", response_class=HTMLResponse)
def apply_page(contest_id: RefId, request: Request, session: SessionDep) -> Response:
    """The application form of an open contest."""
    return _form(request, _contest(session, contest_id))


@router.post("/contests/{contest_id}/apply", response_class=HTMLResponse)
async def apply_submit(
    contest_id: RefId, request: Request, session: SessionDep,
    track_id: Annotated[int, Form()],
    applicant: Annotated[str, Form(max_length=255)],
    title: Annotated[str, Form(max_length=500)],
    requested_rub: Annotated[str, Form(max_length=20)],
    contact: Annotated[str, Form(max_length=255)] = "",
    summary: Annotated[str, Form(max_length=20_000)] = "",
    website: Annotated[str, Form(max_length=255)] = "",
    csrf: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Store an application with its files, or show the form again with what is wrong."""
    check_csrf(request, csrf)
    contest = _contest(session, contest_id)
    values = {"track_id": track_id, "applicant": applicant, "title": title,
              "requested_rub": requested_rub, "contact": contact, "summary": summary}
    if website:  # the honeypot: a bot filled the hidden field
        return _form(request, contest, sent=True)
    uploads = []
    for upload in files or []:
        content = await upload.read(attachments.MAX_FILE_BYTES + 1)
        uploads.append(attachments.Upload(upload.filename or "", content))
    try:
        amount = int(requested_rub.replace(" ", "").replace("\u00a0", "") or "0")
        data = ApplicationCreate(track_id=track_id, applicant=applicant, contact=contact,
                                 title=title, summary=summary, requested_rub=amount)
        application = service.submit_public(session, contest.id, data, uploads)
    except ValueError as exc:
        problems = ([f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
                    if isinstance(exc, ValidationError) else ["requested_rub: not a number"])
        return _form(request, contest, 422, errors=problems, values=values)
    except OtklikError as exc:
        return _form(request, contest, exc.status_code, errors=[exc.message], values=values)
    return _form(request, contest, sent=application.id)
