"""Residents' photos: files the project stores itself (re-encoded, metadata stripped)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, CreatedAtMixin
from otklik.models.message import BigId


class Photo(CreatedAtMixin, Base):
    """A photo a resident sent with a report (the web form, Open311 ``media``/``media_url``).

    ``key`` names the file in the photo store (local folder or S3-compatible bucket) and is
    unguessable: the public ``media_url`` carries it. ``gps_lat``/``gps_lon`` are the place
    the camera recorded, kept as a hint before the file's metadata was stripped.
    """

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(96), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    origin: Mapped[str] = mapped_column(String(16))
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
