"""Grouping a direct line's questions and picking the representative ones (pure: no database).

Groups follow what the language stages and the problems' clustering already decided: a
question whose message belongs to a problem is grouped with that problem's questions; the
others by topic and municipality. Near-duplicates are not questions of their own: they are
counted as supporters of the question they repeat.

The system proposes one representative question per leading group, and every urgent
question, each with the reasons it was chosen; an editor confirms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import mean

from otklik.nlp.dedup import similarity

#: Reasons of a pick, most important first (the first is the one shown in a list).
REASONS = ("most_urgent", "most_supported", "most_typical", "not_answered_elsewhere")
REASON_RU = {
    "most_urgent": "самый срочный",
    "most_supported": "больше всего поддержавших",
    "most_typical": "самый типичный",
    "not_answered_elsewhere": "ещё не получил ответа",
}
URGENT = frozenset({"high", "critical"})
#: Two texts at least this similar (estimated Jaccard of 5-gram shingles) are one question.
NEAR_DUPLICATE = 0.6


@dataclass(frozen=True)
class QuestionView:
    """What grouping needs of a question."""

    id: int
    text: str
    topic: str | None = None
    municipality_id: int | None = None
    problem_id: int | None = None
    supporters: int = 0
    urgency: str = "normal"
    answered_elsewhere: bool = False
    signature: str | None = None


@dataclass
class Group:
    """Questions about one thing: one problem, or one topic in one municipality."""

    key: str
    topic: str | None
    municipality_id: int | None
    problem_id: int | None
    questions: list[QuestionView] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Questions in the group (near-duplicates not counted)."""
        return len(self.questions)

    @property
    def supporters(self) -> int:
        """Residents who asked the same again or supported a question of the group."""
        return sum(q.supporters for q in self.questions)

    @property
    def weight(self) -> int:
        """How many residents the group stands for."""
        return self.count + self.supporters


@dataclass(frozen=True)
class Pick:
    """A representative question and why the system chose it."""

    question_id: int
    reasons: tuple[str, ...]
    note: str


def group_key(q: QuestionView) -> str:
    """The group of a question: its problem, else its topic and municipality."""
    if q.problem_id is not None:
        return f"problem:{q.problem_id}"
    return f"place:{q.topic or '-'}:{q.municipality_id or '-'}"


def group_questions(questions: Sequence[QuestionView]) -> list[Group]:
    """Groups, the biggest (by residents) first; ties by the smallest question id."""
    groups: dict[str, Group] = {}
    for q in sorted(questions, key=lambda q: q.id):
        key = group_key(q)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, q.topic, q.municipality_id, q.problem_id)
        group.questions.append(q)
        group.topic = group.topic or q.topic
        group.municipality_id = group.municipality_id or q.municipality_id
    return sorted(groups.values(), key=lambda g: (-g.weight, g.questions[0].id))


def near_duplicate_of(signature: str, candidates: Sequence[tuple[int, str]]) -> int | None:
    """The first candidate (id, signature) whose text is a near-copy, or None."""
    if not signature:
        return None
    best, best_id = NEAR_DUPLICATE, None
    for candidate_id, other in candidates:
        score = similarity(signature, other)
        if score >= best:
            best, best_id = score, candidate_id
    return best_id


def _typicality(q: QuestionView, group: Group) -> float:
    """How like the rest of its group a question reads (mean similarity of signatures)."""
    others = [o.signature for o in group.questions if o.id != q.id and o.signature]
    if not q.signature or not others:
        return 0.0
    return mean(similarity(q.signature, s) for s in others)


def _urgency_rank(q: QuestionView) -> int:
    return {"critical": 2, "high": 1}.get(q.urgency, 0)


def _reasons(q: QuestionView, group: Group, top_supported: int) -> list[str]:
    reasons = []
    if q.urgency in URGENT:
        reasons.append("most_urgent")
    if top_supported > 0 and q.supporters == top_supported:
        reasons.append("most_supported")
    if group.count > 1:
        reasons.append("most_typical")
    if not q.answered_elsewhere:
        reasons.append("not_answered_elsewhere")
    return reasons


def _note(reasons: Sequence[str], q: QuestionView, group: Group) -> str:
    parts = [REASON_RU[r] for r in reasons]
    return (f"{', '.join(parts)}: группа из {group.count} вопр., поддержавших "
            f"{group.supporters}, у вопроса {q.supporters}")


def pick_representatives(groups: Sequence[Group], limit: int = 10) -> list[Pick]:
    """One representative per leading group (the most supported of it, then the most
    typical), then every urgent question not yet picked, up to ``limit`` picks.

    A representative with no reason to be asked on air (a lone question already answered
    elsewhere, neither urgent nor supported) is left out, and its place goes to the next.
    """
    everyone = [q for g in groups for q in g.questions]
    top_supported = max((q.supporters for q in everyone), default=0)
    picks: list[Pick] = []
    chosen: set[int] = set()
    for group in groups:
        if len(picks) >= limit:
            break
        rep = max(group.questions, key=lambda q: (q.supporters, _typicality(q, group),
                                                  _urgency_rank(q), -q.id))
        reasons = _reasons(rep, group, top_supported)
        if not reasons:
            continue
        picks.append(Pick(rep.id, tuple(reasons), _note(reasons, rep, group)))
        chosen.add(rep.id)
    urgent = sorted((q for q in everyone if q.urgency in URGENT and q.id not in chosen),
                    key=lambda q: (-_urgency_rank(q), -q.supporters, q.id))
    by_question = {q.id: g for g in groups for q in g.questions}
    for q in urgent:
        if len(picks) >= limit:
            break
        reasons = _reasons(q, by_question[q.id], top_supported)
        picks.append(Pick(q.id, tuple(reasons), _note(reasons, q, by_question[q.id])))
    return picks
