"""Where photo files live, behind one small interface (STYLE.md rule 9).

``OTKLIK_PHOTO_STORE``:
- ``local`` (default): files under ``OTKLIK_MEDIA_DIR`` (default ``var/media`` beside the
  SQLite database), served by Otklik itself at ``/media/photos/{key}``;
- ``s3``: an S3-compatible bucket (MinIO, Yandex Object Storage, Ceph, AWS) named by
  ``OTKLIK_S3_ENDPOINT``, ``OTKLIK_S3_BUCKET``, ``OTKLIK_S3_ACCESS_KEY``,
  ``OTKLIK_S3_SECRET_KEY``, ``OTKLIK_S3_REGION``; it needs ``boto3`` installed (not a
  dependency of the embedded default). Otklik still serves ``/media/photos/{key}``, reading
  the object through the same interface, so public URLs do not change with the store.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

from otklik.config import Settings, get_settings
from otklik.errors import ConfigurationError

#: Keys Otklik makes: random, URL-safe, with the extension (nothing else is ever looked up).
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,90}\.jpg")


class PhotoStore(Protocol):
    """Put, get and delete a photo file by its key."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store the file under the key (overwriting is allowed: keys are random)."""

    def get(self, key: str) -> bytes | None:
        """The file, or None when it is not there."""

    def delete(self, key: str) -> None:
        """Remove the file if present."""


class LocalPhotoStore:
    """Files in a folder, two levels of sub-folders by the key's first characters."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError("not a photo key")
        return self.root / key[:2] / key[2:4] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write the file atomically (a reader never sees half of it)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(path)

    def get(self, key: str) -> bytes | None:
        """The file's bytes, or None."""
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def delete(self, key: str) -> None:
        """Remove the file if present."""
        self._path(key).unlink(missing_ok=True)


class S3PhotoStore:
    """An S3-compatible bucket (boto3, imported only when this store is chosen)."""

    def __init__(self, settings: Settings) -> None:
        try:
            import boto3  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise ConfigurationError("OTKLIK_PHOTO_STORE=s3 needs boto3: pip install boto3"
                                     ) from None
        if not settings.s3_bucket:
            raise ConfigurationError("OTKLIK_PHOTO_STORE=s3 needs OTKLIK_S3_BUCKET")
        self.bucket = settings.s3_bucket
        self.client: Any = boto3.client(
            "s3", endpoint_url=settings.s3_endpoint or None,
            region_name=settings.s3_region or None,
            aws_access_key_id=settings.s3_access_key or None,
            aws_secret_access_key=settings.s3_secret_key.get_secret_value() or None)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload the object."""
        self.client.put_object(Bucket=self.bucket, Key=f"photos/{key}", Body=data,
                               ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        """Download the object, or None when it does not exist."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=f"photos/{key}")
        except self.client.exceptions.NoSuchKey:
            return None
        return bytes(response["Body"].read())

    def delete(self, key: str) -> None:
        """Delete the object."""
        self.client.delete_object(Bucket=self.bucket, Key=f"photos/{key}")


def media_dir(settings: Settings) -> Path:
    """The local photo folder: OTKLIK_MEDIA_DIR, or ``var/media`` under the working folder."""
    return Path(settings.media_dir) if settings.media_dir else Path.cwd() / "var" / "media"


_stores: dict[tuple[str, str], PhotoStore] = {}


def photo_store(settings: Settings | None = None) -> PhotoStore:
    """The configured store (one per setting, reused)."""
    settings = settings or get_settings()
    if settings.photo_store == "s3":
        marker = ("s3", settings.s3_bucket)
        if marker not in _stores:
            _stores[marker] = S3PhotoStore(settings)
        return _stores[marker]
    return LocalPhotoStore(media_dir(settings))
