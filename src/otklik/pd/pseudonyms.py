"""The pseudonymous key of an author (``message.author_key``): a keyed hash of the source and
the author's id there. Analytics and case building group by it; a resident's request to see
or erase their data finds their messages by it. Without the secret key nobody goes back
from it to the id."""

from __future__ import annotations

import hashlib
import hmac

from otklik.config import get_settings


def author_key(source: str, author_id: str | None) -> str | None:
    """A stable pseudonym of an author for analytics (keyed hash; the id is not derivable)."""
    if not author_id:
        return None
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{source}:{author_id}".encode(), hashlib.sha256).hexdigest()[:32]
