"""A resident's photo made safe: size and type checked, re-encoded as a plain JPEG.

Pure (no database). Whatever a file carried beside its pixels — EXIF (the camera, the owner,
the GPS position), XMP, ICC profiles, comments, a script or an HTML page appended after the
image data (a "polyglot") — is gone after re-encoding: only decoded pixels are written. The
GPS position is read first and returned apart, as a place hint for the operator."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from otklik.errors import InvalidInput

#: Formats a resident's camera or phone produces; anything else is refused.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
#: Largest upload taken (bytes) and largest picture decoded (pixels): a "decompression bomb"
#: (a small file that decodes to gigabytes) is refused before it is decoded.
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
#: Longest side kept: enough to read a sign or a crack, small enough to show on a card.
MAX_SIDE = 2560
#: How many photos one report may carry.
MAX_PHOTOS = 5
JPEG_QUALITY = 85
_GPS_IFD = 0x8825


class PhotoRefused(InvalidInput):
    """The file is not a photo Otklik takes (too big, not an image, an unknown format)."""


@dataclass(frozen=True)
class CleanPhoto:
    """A re-encoded photo ready to store, and the place its camera recorded (if any)."""

    data: bytes
    width: int
    height: int
    sha256: str
    gps: tuple[float, float] | None
    content_type: str = "image/jpeg"


def _degrees(value: object) -> float | None:
    try:
        parts = [float(p) for p in value]  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if len(parts) != 3:
        return None
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def gps_of(image: Image.Image) -> tuple[float, float] | None:
    """The (lat, lon) in a photo's EXIF, or None (missing, broken or impossible)."""
    try:
        gps = image.getexif().get_ifd(_GPS_IFD)
    except Exception:  # a broken EXIF block is no reason to refuse the photo
        return None
    lat, lon = _degrees(gps.get(2)), _degrees(gps.get(4))
    if lat is None or lon is None:
        return None
    if str(gps.get(1, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return round(lat, 6), round(lon, 6)


def clean(data: bytes) -> CleanPhoto:
    """The photo re-encoded as a JPEG without metadata, with its GPS hint; or PhotoRefused."""
    if not data:
        raise PhotoRefused("the photo is empty")
    if len(data) > MAX_BYTES:
        raise PhotoRefused(f"a photo may be at most {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            image: Image.Image = opened
            if opened.format not in ACCEPTED_FORMATS:
                raise PhotoRefused("a photo must be a JPEG, PNG or WebP image")
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused("the photo has too many pixels")
            gps = gps_of(image)
            image.load()
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PhotoRefused("the file is not a readable JPEG, PNG or WebP image") from None
    image = ImageOps.exif_transpose(image)  # upright, as the phone showed it
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        canvas = Image.new("RGB", image.size, (255, 255, 255))
        canvas.paste(image, mask=image.getchannel("A"))
        image = canvas
    elif image.mode != "RGB":
        image = image.convert("RGB")
    # A fresh image holds the pixels and nothing else: Pillow writes what ``info`` carries
    # (a JPEG comment, an ICC profile) into the new file unless it is left behind.
    pixels = Image.new("RGB", image.size)
    pixels.paste(image)
    out = io.BytesIO()
    pixels.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    body = out.getvalue()
    return CleanPhoto(data=body, width=image.width, height=image.height,
                      sha256=hashlib.sha256(body).hexdigest(), gps=gps)
