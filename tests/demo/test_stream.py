"""The demo's generated stream: determinism, shape, stories, platform ids, JSONL export."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from otklik.channels.schemas import IncomingMessage
from otklik.demo.stream import REGION_CODES, export_jsonl, generate_stream
from otklik.demo.stream_stories import WATER_DAYS_BEFORE_END

END = datetime(2026, 11, 29, 2, tzinfo=UTC)  # late autumn: heating season, first frosts
TOTAL = 6000


def meta(m: IncomingMessage) -> dict:
    """The demo-only ground truth of a message."""
    return m.raw["_demo"]


@pytest.fixture(scope="module")
def stream() -> list[IncomingMessage]:
    return list(generate_stream(seed=42, end=END, total=TOTAL))


@pytest.fixture(scope="module")
def small() -> list[IncomingMessage]:
    return list(generate_stream(seed=7, end=END, total=1500))


def test_same_seed_gives_identical_output(small: list[IncomingMessage]) -> None:
    again = list(generate_stream(seed=7, end=END, total=1500))
    assert [m.model_dump() for m in again] == [m.model_dump() for m in small]


def test_different_seed_gives_different_output(small: list[IncomingMessage]) -> None:
    other = list(generate_stream(seed=8, end=END, total=1500))
    assert len(other) == len(small)
    assert [m.text for m in other] != [m.text for m in small]
    assert len({m.text for m in other} & {m.text for m in small}) < len(small) / 2


def test_count_window_and_order(stream: list[IncomingMessage]) -> None:
    assert len(stream) == TOTAL
    start = END - timedelta(days=90)
    times = [m.created_at for m in stream]
    assert all(t.tzinfo is not None for t in times)
    assert times == sorted(times)
    assert start <= times[0] and times[-1] <= END
    assert times[-1] - times[0] > timedelta(days=85)


def test_all_regions_and_sources_present(stream: list[IncomingMessage]) -> None:
    by_region = Counter(m.region for m in stream)
    assert set(by_region) == set(REGION_CODES)
    assert by_region["36"] > by_region["68"] > by_region["85"]  # roughly by population
    assert by_region["85"] >= 0.08 * TOTAL  # the smallest still has a floor
    shares = {k: v / TOTAL for k, v in Counter(m.source.value for m in stream).items()}
    assert shares["vk"] > 0.5
    for src in ("ok", "telegram", "email", "web"):
        assert 0.02 < shares[src] < 0.25, src


def test_every_record_validates(stream: list[IncomingMessage]) -> None:
    for m in stream[::7]:
        again = IncomingMessage.model_validate(m.model_dump(mode="json"))
        assert again.source_id == m.source_id and again.text == m.text
    keys = [(m.source, m.source_id) for m in stream]
    assert len(set(keys)) == len(keys)


def test_comments_follow_their_posts(stream: list[IncomingMessage]) -> None:
    seen: dict[str, IncomingMessage] = {}
    n_comments = 0
    for m in stream:
        if m.parent_source_id is not None:
            n_comments += 1
            parent = seen[m.parent_source_id]  # KeyError = comment before its post
            assert parent.created_at <= m.created_at
            assert parent.channel == m.channel and parent.source == m.source
        seen[m.source_id] = m
    assert n_comments > TOTAL * 0.3


def test_platform_ids_and_urls(stream: list[IncomingMessage]) -> None:
    vk_posts = [m for m in stream if m.source.value == "vk" and m.parent_source_id is None]
    vk_comments = [m for m in stream if m.source.value == "vk" and m.parent_source_id]
    post = vk_posts[0]
    assert post.source_id == f"wall{post.owner_id}_{post.post_id}"
    assert post.url == f"https://vk.com/wall{post.owner_id}_{post.post_id}"
    assert post.raw["id"] == int(post.post_id) and post.raw["likes"]["count"] >= 0
    assert post.reach is not None and post.reach.views
    community = next(m for m in vk_posts if m.channel and m.channel.startswith("Типичн"))
    assert int(community.owner_id or 0) < 0
    c = vk_comments[0]
    assert c.source_id == f"{c.parent_source_id}_{c.comment_id}"
    assert c.url and c.url.endswith(f"?reply={c.comment_id}")
    tg = next(m for m in stream if m.source.value == "telegram")
    chat, msg_id = tg.source_id.split(":")
    assert (
        chat.startswith("-100")
        and msg_id.isdigit()
        and tg.url
        and tg.url.startswith("https://t.me/")
    )
    mail = next(m for m in stream if m.source.value == "email")
    assert mail.source_id.startswith("<") and "@" in mail.source_id and mail.url is None
    ok = next(m for m in stream if m.source.value == "ok")
    assert ok.url and ok.url.startswith("https://ok.ru/group/")
    photos = [a for m in stream for a in m.attachments if a.type == "photo"]
    assert 0.02 * TOTAL < len(photos) < 0.3 * TOTAL
    with_geo = [m for m in stream if m.lat is not None]
    assert 0.002 * TOTAL < len(with_geo) < 0.1 * TOTAL


def test_no_labels_in_pipeline_fields(stream: list[IncomingMessage]) -> None:
    for m in stream:
        dumped = m.model_dump(mode="json")
        dumped.pop("raw")
        flat = json.dumps(dumped, ensure_ascii=False)
        assert meta(m)["topic_hint"] not in ("roads", "utilities_water") or (
            "topic_hint" not in flat and "_demo" not in flat
        )
        if meta(m)["story"]:
            assert meta(m)["story"] not in flat


def _subject(m: IncomingMessage) -> bool:
    """A resident's message about something (what the dashboard's topic shares count)."""
    return not meta(m)["noise"] and meta(m)["kind"] != "official"


def test_stavropol_roads_share(stream: list[IncomingMessage]) -> None:
    stav = [m for m in stream if m.region == "07" and _subject(m)]
    share = sum(meta(m)["topic_hint"] == "roads" for m in stav) / len(stav)
    # "almost a quarter of messages were about roads": generated a little above it, because
    # the dashboard counts what the classifier accepts (see TARGET_SHARE)
    assert 0.20 <= share <= 0.30
    others = [m for m in stream if m.region in ("86", "85") and _subject(m)]
    assert sum(meta(m)["topic_hint"] == "roads" for m in others) / len(others) < share / 2


def test_kalmykia_water_spike(stream: list[IncomingMessage]) -> None:
    per_day = Counter((END - m.created_at).days for m in stream if m.region == "85")
    baseline = statistics.median(per_day[d] for d in range(90))
    window = range(WATER_DAYS_BEFORE_END - 4, WATER_DAYS_BEFORE_END + 1)
    peak = max(per_day[d] for d in window)
    assert 30 <= WATER_DAYS_BEFORE_END <= 50
    assert peak >= 4 * baseline
    water = [m for m in stream if meta(m)["story"] == "kalmykia_water_outage"]
    roots = [m for m in water if m.parent_source_id is None and meta(m)["kind"] != "official"]
    assert roots and all(meta(m)["municipality"] == "Лаганский район" for m in roots)
    kinds = Counter(meta(m)["kind"] for m in water)
    assert kinds["complaint"] and kinds["question"] and kinds["gratitude"]
    texts = " ".join(m.text.lower() for m in water)
    assert "водовоз" in texts and "дали воду" in texts.replace("воду дали", "дали воду")


def test_michurinsk_overpass_grows(stream: list[IncomingMessage]) -> None:
    overpass = [m for m in stream if meta(m)["story"] == "michurinsk_overpass"]
    assert all(m.region == "68" for m in overpass)
    first = sum(1 for m in overpass if m.created_at < END - timedelta(days=45))
    second = len(overpass) - first
    assert second > 1.5 * first
    texts = [m.text.lower() for m in overpass]
    assert sum("лаврова" in t for t in texts) > len(texts) / 3
    assert any("прям" in t and "лини" in t for t in texts)


def test_samara_container_sites_across_municipalities(stream: list[IncomingMessage]) -> None:
    sites = [m for m in stream if meta(m)["story"] == "samara_container_sites"]
    assert all(m.region == "36" for m in sites)
    assert len({meta(m)["municipality"] for m in sites}) >= 8
    assert {meta(m)["generator_topic"] for m in sites} >= {
        "waste/no_site",
        "waste/overflow",
        "waste/nobody",
        "waste/no_truck",
    }
    residents = [m for m in sites if meta(m)["kind"] != "official"]
    assert {meta(m)["subtopic"] for m in residents} == {"waste.container_sites", "waste.collection"}


def test_karelia_stories(stream: list[IncomingMessage]) -> None:
    proposal = [m for m in stream if meta(m)["story"] == "karelia_resident_proposal"]
    assert any("ДЦП" in m.text and m.channel == "Глава Республики Карелия" for m in proposal)
    assert any("СМС" in m.text for m in proposal)
    grants = [m for m in stream if meta(m)["story"] == "karelia_blogger_grants"]
    assert any("150 до 350" in m.text for m in grants)
    assert sum(meta(m)["kind"] == "question" for m in grants) >= 5


def test_noise_and_kinds_mix(stream: list[IncomingMessage]) -> None:
    noise = sum(meta(m)["noise"] for m in stream) / TOTAL
    assert 0.2 <= noise <= 0.32
    kinds = Counter(meta(m)["kind"] for m in stream)
    for kind in ("complaint", "question", "proposal", "gratitude", "official"):
        assert kinds[kind] > 0.01 * TOTAL, kind
    assert sum(meta(m)["urgent"] for m in stream) > 0.005 * TOTAL
    # Topic hints use the project's taxonomy codes (src/otklik/nlp/taxonomy/taxonomy.json).
    topics = {meta(m)["topic_hint"] for m in stream}
    assert {
        "roads",
        "housing",
        "utilities",
        "improvement",
        "waste",
        "health",
        "education",
    } <= topics
    assert {"transport", "social", "ecology", "safety", "communications", "culture_sport"} <= topics
    assert {"trade", "employment", "construction", "agriculture", "government"} <= topics
    subs = {meta(m)["subtopic"] for m in stream if meta(m)["subtopic"]}
    assert {"utilities.heating", "ecology.stray_animals", "government.mfc"} <= subs
    assert {"ads", "spam", "greetings", "chatter", "offtopic"} <= topics


def test_texts_are_varied_and_informal(stream: list[IncomingMessage]) -> None:
    # Intended duplicates left out: campaigns, repeats, spam bots, canned admin replies.
    long = [
        m.text
        for m in stream
        if len(m.text) >= 40
        and not meta(m).get("campaign")
        and not meta(m).get("repeat_of")
        and meta(m)["topic_hint"] != "spam"
        and not (meta(m)["kind"] == "official" and m.parent_source_id)
    ]
    assert len(set(long)) / len(long) > 0.9
    joined = " ".join(m.text for m in stream)
    for marker in ("щас", "ваще", "када", "!!!", "😡"):
        assert marker in joined, marker
    assert sum(m.text.isupper() for m in stream if len(m.text) > 30) > 10


def test_campaigns_and_repeats(stream: list[IncomingMessage]) -> None:
    by_campaign: dict[str, list[IncomingMessage]] = defaultdict(list)
    for m in stream:
        if meta(m).get("campaign"):
            by_campaign[meta(m)["campaign"]].append(m)
    assert len(by_campaign) >= 3
    for msgs in by_campaign.values():
        assert len({m.author_id for m in msgs}) > len(msgs) * 0.7
    repeats = [m for m in stream if meta(m).get("repeat_of")]
    ids = {m.source_id: m for m in stream}
    assert repeats
    for r in repeats:
        orig = ids[meta(r)["repeat_of"]]
        assert orig.author_id == r.author_id and orig.created_at < r.created_at


def test_active_authors_and_stable_ids(stream: list[IncomingMessage]) -> None:
    per_author = Counter(meta(m)["person"] for m in stream if meta(m)["person"])
    top = per_author.most_common(3)
    assert top[0][1] >= 15
    names: dict[tuple[str, str], set[str]] = defaultdict(set)
    for m in stream:
        if m.author_id and meta(m)["person"]:
            names[(m.source.value, m.author_id)].add(meta(m)["person"])
    assert all(len(v) == 1 for v in names.values())


def test_season_follows_end_date(stream: list[IncomingMessage]) -> None:
    late = [m for m in stream if m.created_at > END - timedelta(days=30)]
    heat = sum(meta(m)["subtopic"] == "utilities.heating" for m in late)
    summer = list(generate_stream(seed=42, end=datetime(2026, 8, 15, tzinfo=UTC), total=3000))
    summer_late = [m for m in summer if m.created_at > datetime(2026, 7, 15, tzinfo=UTC)]
    summer_heat = sum(meta(m)["subtopic"] == "utilities.heating" for m in summer_late)
    assert heat / len(late) > 3 * summer_heat / len(summer_late)


def test_export_jsonl_round_trip(tmp_path: Path, small: list[IncomingMessage]) -> None:
    path = tmp_path / "demo.jsonl"
    n = export_jsonl(path, seed=7, end=END, total=1500)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert n == len(lines) == len(small)
    first = json.loads(lines[0])
    assert set(first) == set(IncomingMessage.model_fields)
    back = [IncomingMessage.model_validate_json(line) for line in lines]
    assert [m.model_dump(mode="json") for m in back] == [m.model_dump(mode="json") for m in small]


def test_default_end_is_the_current_hour() -> None:
    msgs = list(generate_stream(seed=1, days=3, total=50))
    now = datetime.now(UTC)
    assert len(msgs) == 50
    assert msgs[-1].created_at <= now
    assert msgs[0].created_at >= now - timedelta(days=3, hours=2)


def test_every_resident_message_knows_its_true_problem(stream: list[IncomingMessage]) -> None:
    """The ground truth the clustering benchmark scores against (bench_clustering.py):
    a story about one object is one problem, a reply that only follows its post shares its
    post's, a street is part of a problem only for a subject at an address in a town."""
    by_source = {m.source_id: m for m in stream}
    residents = [m for m in stream if not meta(m)["noise"] and meta(m)["kind"] != "official"]
    assert residents and all(meta(m).get("incident") for m in residents)
    assert not any(meta(m).get("incident") for m in stream if meta(m)["noise"])
    overpass = {meta(m)["incident"] for m in residents
                if meta(m)["story"] == "michurinsk_overpass" and not meta(m).get("campaign")}
    assert overpass == {"michurinsk_overpass"}
    for m in residents:
        incident = meta(m)["incident"]
        if meta(m).get("campaign"):
            assert incident == f"campaign:{meta(m)['campaign']}"
        elif meta(m)["story"] is None and "/" in incident:
            # «roads@68:Тамбов/Советская*»: the street the text names, in a town.
            assert incident.split("@")[0] in {"roads", "housing", "improvement", "utilities",
                                               "waste", "transport", "construction", "safety"}
            parent = by_source.get(m.parent_source_id or "")
            follows = parent is not None and meta(parent).get("incident") == incident
            assert follows or incident.endswith(meta(m)["street"])
    replies = [m for m in residents if m.parent_source_id in by_source
               and meta(m)["incident"] == meta(by_source[m.parent_source_id]).get("incident")]
    assert len(replies) > 100


def test_no_template_offers_a_slots_name_as_plain_text() -> None:
    """``{в Лагани|addr}`` printed «Где набрать питьевую воду addr?»: an alternative that is
    exactly the name of a slot used elsewhere must be written as the slot, ``{addr}``."""
    from otklik.demo.stream_text import _parse

    vocab = Path(__file__).resolve().parents[2] / "src" / "otklik" / "demo" / "vocab"
    templates: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, str) and "{" in value:
            templates.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for path in sorted(vocab.glob("*.json")):
        collect(json.loads(path.read_text(encoding="utf-8")))
    slots: set[str] = set()
    plain: list[tuple[str, str]] = []

    def walk(nodes: tuple, template: str) -> None:
        for node in nodes:
            if isinstance(node, str):
                continue
            if node[0] == "slot":
                slots.add(node[1])
                continue
            for option in node[1]:
                if len(option) == 1 and isinstance(option[0], str):
                    plain.append((option[0].strip(), template))
                walk(option, template)

    for template in templates:
        walk(_parse(template), template)
    assert len(templates) > 100 and {"addr", "house", "street"} <= slots
    assert [(word, t) for word, t in plain if word in slots] == []
