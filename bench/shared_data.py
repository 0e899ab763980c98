"""Where the benchmarks find ``../shared/data`` (evaluation data, read at run time, never
copied into the repository).

The folder beside the checkout, or beside a folder above it (a git worktree such as
``work/wt/<branch>`` shares ``work/shared`` with the main checkout); ``OTKLIK_SHARED_DATA``
names it outright. A benchmark that needs a file that is not there says so by its path.
"""

from __future__ import annotations

import os
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]


def _find() -> Path:
    named = os.environ.get("OTKLIK_SHARED_DATA")
    if named:
        return Path(named)
    for folder in (_CHECKOUT, *_CHECKOUT.parents):
        candidate = folder.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return _CHECKOUT.parent / "shared" / "data"


#: The shared data folder (``.../shared/data``).
SHARED_DATA = _find()
