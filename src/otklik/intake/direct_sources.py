"""Messages sent straight to the center are appeals, whatever their words.

The relevance stage judges public posts, where most texts are chatter, and needs cues to
call a text an appeal. A resident who fills in the center's web form, writes to its e-mail
address or files an Open311 request is addressing the authorities by doing so: a bare
«Сухое дерево у школы №3» or «Люк напротив аптеки» there must become a case, not stay an
"irrelevant" message nobody sees. After the stages, enrichment therefore marks such a
message relevant unless the stage found a reason to keep it out: an advert or spam (e-mail
gets those), a greeting card, no words at all, or a language the center does not handle.
The record says so (``relevance.direct_source``) and the explanation names the source.
"""

from __future__ import annotations

from typing import Any

#: Sources whose every message is addressed to the center (``Message.source``).
DIRECT_SOURCES = frozenset({"web", "email", "open311"})
#: Relevance categories that only mean "no appeal cue found" (ads, spam and greetings do not).
UNSURE_CATEGORIES = frozenset({"chatter", "other"})


def relevance_from_source(values: dict[str, Any], source: str, text: str,
                          result: dict[str, Any]) -> None:
    """Mark a direct-channel message relevant when the stage only found no appeal cue."""
    if values.get("relevant") or source not in DIRECT_SOURCES or not text.strip():
        return
    relevance = result.get("relevance")
    if not isinstance(relevance, dict) or relevance.get("category") not in UNSURE_CATEGORIES:
        return
    from otklik.nlp.pipeline import APPEAL_LANGUAGES  # the pipeline is loaded by now

    if result.get("language") not in APPEAL_LANGUAGES:
        return
    values["relevant"] = result["relevant"] = True
    relevance["direct_source"] = source
    explain = result.setdefault("explain", {})
    if isinstance(explain, dict):
        reason = explain.setdefault("relevance", {})
        if isinstance(reason, dict):
            reason["direct_source"] = (f"sent to the center through «{source}»: "
                                       "an appeal without appeal words")
