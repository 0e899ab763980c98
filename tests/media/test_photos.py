"""Residents' photos made safe (pure, no database): the GPS hint read then stripped, a
polyglot neutralised, other files and oversize refused; the local store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from otklik.media import photos
from otklik.media.photos import PhotoRefused, clean
from otklik.media.storage import LocalPhotoStore

MICHURINSK = (52.8978, 40.4907)


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def jpeg_with_gps(lat: float = MICHURINSK[0], lon: float = MICHURINSK[1],
                  size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG whose EXIF holds a GPS position, a camera owner and a comment."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x013B] = "Иванов Иван, +7 900 123-45-67"  # Artist
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N" if lat >= 0 else "S", 2: _dms(abs(lat)),
                3: "E" if lon >= 0 else "W", 4: _dms(abs(lon))})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"secret comment")
    return out.getvalue()


def test_the_gps_position_is_read_then_stripped_with_all_metadata() -> None:
    raw = jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the input carries GPS
    photo = clean(raw)
    assert photo.gps is not None
    assert photo.gps == pytest.approx(MICHURINSK, abs=1e-3)
    out = Image.open(io.BytesIO(photo.data))
    assert out.format == "JPEG" and (out.width, out.height) == (64, 48)
    assert len(out.getexif()) == 0 and not out.getexif().get_ifd(0x8825)
    assert "comment" not in out.info and "exif" not in out.info
    for secret in (b"PhoneMaker", "Иванов".encode(), b"secret comment"):
        assert secret not in photo.data


def test_south_and_west_are_negative_and_nonsense_is_no_hint() -> None:
    assert clean(jpeg_with_gps(-33.9, -70.6)).gps == pytest.approx((-33.9, -70.6), abs=1e-3)
    assert clean(jpeg_with_gps(0.0, 0.0)).gps is None  # the "null island" of broken GPS
    plain = io.BytesIO()
    Image.new("RGB", (10, 10)).save(plain, "PNG")
    assert clean(plain.getvalue()).gps is None


def test_a_polyglot_loses_its_script() -> None:
    """A valid JPEG with an HTML page and a script after its end marker (and in a comment):
    re-encoding writes pixels only."""
    payload = b"<html><script>alert(document.cookie)</script></html>"
    image = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 90, 200)).save(image, "JPEG", comment=payload)
    polyglot = image.getvalue() + payload
    assert payload in polyglot
    photo = clean(polyglot)
    assert b"<script" not in photo.data and b"<html" not in photo.data
    assert photo.data.startswith(b"\xff\xd8") and photo.data.rstrip(b"\x00").endswith(b"\xff\xd9")


@pytest.mark.parametrize("data", [
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"<html><body>not an image</body></html>",
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",  # a GIF: not a camera's
    b"\xff\xd8\xff\xe0 truncated",
    b"",
])
def test_what_is_not_a_photo_is_refused(data: bytes) -> None:
    with pytest.raises(PhotoRefused):
        clean(data)


def test_oversize_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = jpeg_with_gps()
    monkeypatch.setattr(photos, "MAX_BYTES", len(raw) - 1)
    with pytest.raises(PhotoRefused, match="at most"):
        clean(raw)


def test_a_decompression_bomb_is_refused() -> None:
    bomb = io.BytesIO()
    Image.new("1", (8000, 6000)).save(bomb, "PNG")  # 48 MP in a few kilobytes
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(PhotoRefused, match="pixels"):
        clean(bomb.getvalue())


def test_big_photos_are_scaled_and_transparency_is_flattened() -> None:
    wide = io.BytesIO()
    Image.new("RGBA", (3000, 1000), (0, 0, 0, 0)).save(wide, "PNG")
    photo = clean(wide.getvalue())
    assert (photo.width, photo.height) == (photos.MAX_SIDE, 853)
    assert Image.open(io.BytesIO(photo.data)).getpixel((5, 5)) == (255, 255, 255)


def test_the_local_store_keeps_files_by_key_only(tmp_path: Path) -> None:
    store = LocalPhotoStore(tmp_path)
    key = "A" * 20 + ".jpg"
    store.put(key, b"jpeg-bytes", "image/jpeg")
    assert store.get(key) == b"jpeg-bytes"
    assert (tmp_path / "AA" / "AA" / key).is_file()
    store.delete(key)
    assert store.get(key) is None
    for bad in ("../../etc/passwd", "x.jpg", "A" * 20 + ".html"):
        with pytest.raises(ValueError):
            store.get(bad)


class _FakeS3:
    """What S3PhotoStore asks of a boto3 S3 client, over a dict (no network)."""

    class exceptions:  # noqa: N801 - boto3's spelling
        class NoSuchKey(Exception):
            pass

    def __init__(self, **config: object) -> None:
        self.config = config
        self.objects: dict[tuple[str, str], tuple[bytes, str]] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes,  # noqa: N803
                   ContentType: str) -> None:
        self.objects[(Bucket, Key)] = (Body, ContentType)

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, object]:  # noqa: N803
        if (Bucket, Key) not in self.objects:
            raise self.exceptions.NoSuchKey(Key)
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)][0])}

    def delete_object(self, *, Bucket: str, Key: str) -> None:  # noqa: N803
        self.objects.pop((Bucket, Key), None)


def test_the_s3_store_through_a_fake_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTKLIK_PHOTO_STORE=s3 picks the S3-compatible store, configured from the settings;
    files go under photos/<key> with their type (a fake boto3 here: the live S3 is not
    tested); without a bucket or without boto3 it refuses to start, saying what is missing."""
    import sys
    import types

    from otklik.config import Settings
    from otklik.errors import ConfigurationError
    from otklik.media import storage

    made: list[_FakeS3] = []

    def client(service: str, **config: object) -> _FakeS3:
        assert service == "s3"
        made.append(_FakeS3(**config))
        return made[-1]

    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=client))
    monkeypatch.setattr(storage, "_stores", {})
    settings = Settings(env="test", photo_store="s3", s3_bucket="otklik-photos",  # type: ignore[call-arg]
                        s3_endpoint="https://storage.yandexcloud.net", s3_region="ru-central1",
                        s3_access_key="AKID", s3_secret_key="s3cr3t")
    store = storage.photo_store(settings)
    assert isinstance(store, storage.S3PhotoStore) and storage.photo_store(settings) is store
    [fake] = made
    assert fake.config == {"endpoint_url": "https://storage.yandexcloud.net",
                           "region_name": "ru-central1", "aws_access_key_id": "AKID",
                           "aws_secret_access_key": "s3cr3t"}
    key = "B" * 22 + ".jpg"
    photo = clean(jpeg_with_gps())
    store.put(key, photo.data, "image/jpeg")
    assert fake.objects[("otklik-photos", f"photos/{key}")] == (photo.data, "image/jpeg")
    assert store.get(key) == photo.data
    store.delete(key)
    assert store.get(key) is None
    with pytest.raises(ConfigurationError, match="OTKLIK_S3_BUCKET"):
        storage.S3PhotoStore(Settings(env="test", photo_store="s3"))  # type: ignore[call-arg]
    monkeypatch.setitem(sys.modules, "boto3", None)  # not installed
    with pytest.raises(ConfigurationError, match="pip install boto3"):
        storage.S3PhotoStore(settings)
