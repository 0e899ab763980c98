"""Normalization: turn what a channel delivered into clean text for the other stages.

Order matters: the text is cut first (bounded time), mojibake is repaired before control
characters are dropped (double-decoded UTF-8 contains C1 controls), HTML is unpacked, then
invisible/format characters, emoji, repeated characters and whitespace are handled.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

from otklik.nlp.base import Doc, Stage, StageResult

DEFAULT_MAX_CHARS = 10_000

# --- mojibake -------------------------------------------------------------------------
# UTF-8 Cyrillic is two bytes: D0/D1 + 80..BF. Read as cp1251 that is "Р"/"С" + one of
# the characters below; read as cp1252/latin-1 it is "Ð"/"Ñ" + one of the characters below.
_CP1251_TAIL = bytes(range(0x80, 0xC0)).decode("cp1251", errors="replace").replace("\ufffd", "")
_CP1252_TAIL = "".join(
    bytes([b]).decode("cp1252", errors="ignore") + chr(b) for b in range(0x80, 0xC0)
)  # cp1252 and latin-1 readings of the same bytes
_MOJI_1251_PAIR = "[РС][" + re.escape(_CP1251_TAIL) + "]"
_MOJI_1252_PAIR = "[ÐÑ][" + re.escape(_CP1252_TAIL) + "]"
_MOJI_PAIRS = {
    "cp1252": re.compile(_MOJI_1252_PAIR),
    "cp1251": re.compile(_MOJI_1251_PAIR),
}
# Either kind of pair: texts without one (almost all) skip the repair in one scan.
_MOJI_ANY = re.compile(f"{_MOJI_1252_PAIR}|{_MOJI_1251_PAIR}")
# A run of mojibake pairs, possibly with ASCII (spaces, punctuation, digits) between them:
# ASCII survives the double decoding unchanged, so it can be re-encoded with the run.
_MOJI_RUNS = {
    "cp1252": re.compile(f"{_MOJI_1252_PAIR}(?:[\\x20-\\x7e]{{0,3}}{_MOJI_1252_PAIR})*"),
    "cp1251": re.compile(f"{_MOJI_1251_PAIR}(?:[\\x20-\\x7e]{{0,3}}{_MOJI_1251_PAIR})*"),
}


def _encode_as(text: str, encoding: str) -> bytes:
    """Re-encode a mis-decoded text; cp1252 falls back to latin-1 for its undefined bytes."""
    if encoding == "cp1251":
        return text.encode("cp1251")
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1252")
        except UnicodeEncodeError:
            if ord(ch) > 0xFF:
                raise
            out.append(ord(ch))
    return bytes(out)


def _fix_run(run: str, encoding: str) -> str:
    try:
        return _encode_as(run, encoding).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return run


def repair_mojibake(text: str) -> tuple[str, int]:
    """Undo UTF-8 read as cp1251 or cp1252/latin-1; return (text, number of repairs made)."""
    fixed = 0
    if not _MOJI_ANY.search(text):
        return text, fixed
    for enc, pair_rx in _MOJI_PAIRS.items():
        if not pair_rx.search(text):
            continue
        pairs = len(pair_rx.findall(text))
        # Whole text first: it also repairs non-Cyrillic characters (dashes, quotes).
        try:
            whole = _encode_as(text, enc).decode("utf-8", errors="replace")
        except UnicodeEncodeError:
            whole = ""
        if whole and whole.count("\ufffd") - text.count("\ufffd") <= max(1, pairs // 20):
            text, fixed = whole, fixed + pairs
            continue
        if pairs < 2:
            continue  # one stray pair ("Ра" in a Russian word) is no evidence

        def sub(m: re.Match[str], enc: str = enc) -> str:
            nonlocal fixed
            new = _fix_run(m.group(0), enc)
            if new != m.group(0):
                fixed += 1
            return new

        text = _MOJI_RUNS[enc].sub(sub, text)
    return text, fixed


# --- HTML -----------------------------------------------------------------------------
_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_BLOCK_TAG_RE = re.compile(r"</?(?:br|p|div|li|ul|ol|tr|h[1-6]|blockquote)\b[^<>]{0,300}>", re.I)
_TAG_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]{0,300})?/?>")
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,10});")

# --- invisible / control characters ----------------------------------------------------
# C0/C1 controls (keeping \t \n), soft hyphen, zero-width, bidi embeddings/overrides/isolates,
# word joiner & invisible operators, BOM, interlinear annotations, replacement char.
_INVISIBLE_CHARS = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ufffd"
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE_CHARS}]")
_SPACE_LIKE_CHARS = "\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\t\r\f\v"
_SPACE_LIKE_RE = re.compile(f"[{_SPACE_LIKE_CHARS}]")

# --- emoji ----------------------------------------------------------------------------
_EMOJI_FIRST_CHARS = (
    "\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u2190-\u21ff"
    "\u3030\u303d\u3297\u3299\u2122\u2139\u24c2\u25aa-\u25fe"
)
EMOJI_RE = re.compile(
    "(?:[\U0001f1e6-\U0001f1ff]{2}"  # flags
    f"|[{_EMOJI_FIRST_CHARS}]"
    "[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\u20e3]*"
    "(?:\u200d[\U0001f000-\U0001faff\u2600-\u27bf][\ufe0f\U0001f3fb-\U0001f3ff]*)*)"
)
_EMOJI_LEFTOVER_CHARS = "\ufe0e\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
_EMOJI_LEFTOVER_RE = re.compile(f"[{_EMOJI_LEFTOVER_CHARS}]")
# Any character the four passes above could touch (flags lie inside the emoji range):
# most texts have none, and one scan lets them skip all four.
_UNUSUAL_RE = re.compile(
    f"[{_INVISIBLE_CHARS}{_SPACE_LIKE_CHARS}{_EMOJI_FIRST_CHARS}{_EMOJI_LEFTOVER_CHARS}]"
)

# --- repeats and whitespace -------------------------------------------------------------
_REPEAT_LETTER_RE = re.compile(r"([^\W\d_])\1{2,}", re.I)  # "ооочень" -> "очень"
_REPEAT_PUNCT_RE = re.compile(r"([!?()*~_=+#<>|/\\-])\1+")  # "!!!!" -> "!", ")))" -> ")"
_MIXED_PUNCT_RE = re.compile(r"[!?]{2,}")  # "?!?!" -> "?!"
_DOTS_RE = re.compile(r"\.{4,}|…")
# Something for one of the three punctuation passes to do (checked in one scan).
_PUNCT_WORK_RE = re.compile(r"([!?()*~_=+#<>|/\\-])\1|[!?]{2}|\.{4}|…")
# What _PUNCT_WORK_RE finds, as plain substrings: a few "in" checks cost less than the scan.
_PUNCT_WORK_NEEDLES = (*(c + c for c in "!?()*~_=+#<>|/\\-"), "!?", "?!", "....", "…")
# Three letters that are equal case-insensitively ("Ооо") are three equal characters of the
# lowercased text, which a plain back-reference finds several times faster than the
# case-insensitive one. str.lower() maps each character as the pattern's case-insensitive
# match compares it, except "İ" (two characters) and "Σ" (final sigma depends on context).
_TRIPLE_RE = re.compile(r"(.)\1\1", re.S)
_SPACES_RE = re.compile(r"[ ]{2,}")
_NEWLINES_RE = re.compile(r"\s*\n\s*")


def extract_emoji(text: str) -> list[str]:
    """Return the emoji found in a text, in order."""
    return EMOJI_RE.findall(text)


def _may_repeat_letters(text: str) -> bool:
    """False only when ``_REPEAT_LETTER_RE`` cannot match (a cheap pre-check)."""
    if "İ" in text or "Σ" in text:
        return True
    return _TRIPLE_RE.search(text.lower()) is not None


def _has_punct_work(text: str) -> bool:
    """``_PUNCT_WORK_RE.search(text)`` as substring checks."""
    return any(needle in text for needle in _PUNCT_WORK_NEEDLES)


def normalize_text(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> tuple[str, dict[str, Any]]:
    """Normalize one text; return (clean text, explanation of what was changed)."""
    explain: dict[str, Any] = {}
    if not text:
        return "", {"empty": True}
    original_len = len(text)
    if original_len > max_chars:
        # Cut on a whitespace boundary near the limit so the last word stays whole.
        cut = text.rfind(" ", max_chars - 200, max_chars)
        text = text[: cut if cut > 0 else max_chars]
        explain["truncated"] = True
        explain["original_length"] = original_len

    text, fixed = repair_mojibake(text)
    if fixed:
        explain["mojibake_fixed"] = fixed

    if "<" in text and ">" in text:
        text, n_script = _SCRIPT_RE.subn(" ", text)
        text, n_block = _BLOCK_TAG_RE.subn("\n", text)
        text, n_tags = _TAG_RE.subn(" ", text)
        if n_script + n_block + n_tags:
            explain["html_tags"] = n_script + n_block + n_tags
    if "&" in text:
        n_ent = len(_ENTITY_RE.findall(text))
        if n_ent:
            text = html.unescape(text)
            explain["html_entities"] = n_ent

    if _UNUSUAL_RE.search(text):
        text, n_invisible = _INVISIBLE_RE.subn("", text)
        if n_invisible:
            explain["invisible_chars"] = n_invisible
        text = _SPACE_LIKE_RE.sub(" ", text)

        emoji = EMOJI_RE.findall(text)
        if emoji:
            text = EMOJI_RE.sub(" ", text)
            counts = Counter(emoji)
            explain["emoji"] = len(emoji)
            explain["emoji_top"] = [e for e, _ in counts.most_common(5)]
        text = _EMOJI_LEFTOVER_RE.sub("", text)

    n_rep = 0
    if _may_repeat_letters(text):
        text, n_rep = _REPEAT_LETTER_RE.subn(r"\1", text)
    n_rep_p = 0
    if _has_punct_work(text):
        text, n_rep_p = _REPEAT_PUNCT_RE.subn(r"\1", text)
        text = _MIXED_PUNCT_RE.sub(lambda m: "".join(dict.fromkeys(m.group(0))), text)
        text = _DOTS_RE.sub("...", text)
    if n_rep + n_rep_p:
        explain["repeats_collapsed"] = n_rep + n_rep_p

    if "  " in text:
        text = _SPACES_RE.sub(" ", text)
    if "\n" in text:
        text = _NEWLINES_RE.sub("\n", text)
    text = text.strip()
    if not text:
        explain["empty"] = True
    return text, explain


class NormalizeStage(Stage):
    """Clean the raw text: HTML, mojibake, invisible characters, emoji, repeats, whitespace."""

    name: ClassVar[str] = "normalize"

    def __init__(self, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self.max_chars = max_chars

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """Set ``doc.clean`` on every document; value is the clean text."""
        results: list[StageResult] = []
        for doc in docs:
            try:
                clean, explain = normalize_text(doc.text or "", self.max_chars)
            except Exception as exc:  # noqa: BLE001 - a stage must never break the batch
                clean, explain = (doc.text or "")[: self.max_chars], {"error": repr(exc)}
            doc.clean = clean
            changed = clean != (doc.text or "")
            # Confidence reflects how much we had to guess: repairs and cuts lower it.
            conf = 1.0
            if explain.get("mojibake_fixed"):
                conf -= 0.15
            if explain.get("truncated"):
                conf -= 0.2
            if explain.get("error") or explain.get("empty"):
                conf = 0.3
            explain["changed"] = changed
            results.append(StageResult(value=clean, confidence=max(conf, 0.0), explain=explain))
        return results
