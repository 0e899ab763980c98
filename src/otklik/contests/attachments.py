"""Application attachments: the limits they are held to and the folder they are kept in.

Files live under ``<data_dir>/contests/<contest id>/`` with a random name; the original name
is only shown. A file is accepted when its extension is one of :data:`ALLOWED` *and* its
first bytes are what that type starts with (a renamed executable is refused); its content
type is ours, never the sender's. They are served only to the contest's managers and the
experts assigned to the application's track (:func:`otklik.contests.service.attachment_file`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from otklik.config import get_settings
from otklik.errors import OtklikError

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 25 * 1024 * 1024

#: Extension → (content type, accepted leading bytes).
ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             (b"PK\x03\x04",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",
             (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             (b"PK\x03\x04",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
}
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\<>:\"|?*\u202a-\u202e\u2066-\u2069]")


class AttachmentRefused(OtklikError):
    """A file over the limits or of a type we do not take (413/415 are folded into 422:
    the applicant fixes the file and sends the form again)."""

    status_code = 422


@dataclass(frozen=True)
class Upload:
    """A file as received."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class Checked:
    """A file that passed the checks, ready to be kept."""

    filename: str
    content_type: str
    content: bytes
    sha256: str


def safe_name(filename: str) -> str:
    """The original name without a path, control or bidirectional characters."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .") or "file"
    return cleaned[-120:]


def check(uploads: list[Upload]) -> list[Checked]:
    """The files that may be kept, or a refusal naming the file and the limit."""
    files = [u for u in uploads if u.filename or u.content]
    if len(files) > MAX_FILES:
        raise AttachmentRefused(f"at most {MAX_FILES} files per application ({len(files)} sent)")
    if sum(len(u.content) for u in files) > MAX_TOTAL_BYTES:
        raise AttachmentRefused(f"the files add up to more than {MAX_TOTAL_BYTES // 2**20} MB")
    out: list[Checked] = []
    for upload in files:
        name = safe_name(upload.filename)
        if len(upload.content) > MAX_FILE_BYTES:
            raise AttachmentRefused(f"{name}: larger than {MAX_FILE_BYTES // 2**20} MB")
        if not upload.content:
            raise AttachmentRefused(f"{name}: the file is empty")
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in ALLOWED:
            raise AttachmentRefused(f"{name}: only {', '.join(sorted(ALLOWED))} files are taken")
        content_type, magic = ALLOWED[extension]
        if not upload.content.startswith(magic):
            raise AttachmentRefused(f"{name}: the content is not a {extension} file")
        out.append(Checked(name, content_type, upload.content,
                           hashlib.sha256(upload.content).hexdigest()))
    return out


def root() -> Path:
    """Where attachments are kept."""
    return Path(get_settings().data_dir) / "contests"


def store(contest_id: int, file: Checked) -> str:
    """Write a checked file under a random name; the name to record."""
    folder = root() / str(contest_id)
    folder.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(16)
    (folder / stored).write_bytes(file.content)
    return stored


def path_of(contest_id: int, stored_name: str) -> Path:
    """The kept file (its name is ours: hex only)."""
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name):
        raise OtklikError("the attachment's stored name is damaged", 500)
    return root() / str(contest_id) / stored_name
