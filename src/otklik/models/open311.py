"""Service requests filed through Open311 GeoReport v2 (``POST requests``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, CreatedAtMixin
from otklik.db.types import JSONType
from otklik.models.message import BigId


class Open311Request(CreatedAtMixin, Base):
    """One ``POST requests``: the message it stored, the key that filed it and what the
    integrator sent beside the text. ``reporter`` is personal data (e-mail, names, phone,
    device and account ids): it never leaves in a GET response."""

    __tablename__ = "open311_request"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    api_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_token.id", ondelete="SET NULL"), index=True
    )
    #: Same key, device/account, service and text: a re-post inside the window is this one.
    dedupe_key: Mapped[str] = mapped_column(String(64), index=True)
    service_code: Mapped[str] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    reporter: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    address_string: Mapped[str | None] = mapped_column(String(255))
    address_id: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    media_url: Mapped[str | None] = mapped_column(String(1000))
    photos: Mapped[int] = mapped_column(Integer, default=0)
