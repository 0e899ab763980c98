"""The emergency detector without a database: hand-made observations in, signals out."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from otklik.incidents.baseline import Series, WeekProfile, tail_probability, timestamp
from otklik.incidents.detector import Detector, Observation, Place
from otklik.incidents.settings import DetectorSettings, Thresholds

START = datetime(2026, 10, 12, 6, 0, tzinfo=UTC)  # a Monday, 09:00 in Moscow
REGION = "85"
ELISTA = Place("городской округ Элиста", "85701000")
YASHKUL_DISTRICT = Place("Яшкульский район", "85654000")
YASHKUL = Place("Яшкуль", "85654151051")
TOWNS = [Place(f"Район {i}", f"8560{i}000") for i in range(10)]


def obs(n: int, at: datetime, author: str, *, topic: str = "utilities",
        muni: Place | None = YASHKUL_DISTRICT, settlement: Place | None = YASHKUL,
        hazards: tuple[str, ...] = (), words: tuple[str, ...] = (), street: str | None = None,
        duplicate_of: str | None = None, region: str | None = REGION) -> Observation:
    return Observation(id=f"m{n}", at=at, author=author, topic_code=topic,
                       topic_name=topic.title(), region_code=region, region_name="Калмыкия",
                       municipality=muni, settlement=settlement, street=street, hazards=hazards,
                       words=words, duplicate_of=duplicate_of)


def background(days: int, per_day: int, seed: int = 1, start: datetime = START
               ) -> list[Observation]:
    """Ordinary messages: several topics over ten districts and the capital."""
    rng = random.Random(seed)
    out = []
    for day in range(days):
        for _ in range(per_day):
            at = start + timedelta(days=day, minutes=rng.randrange(24 * 60))
            place = rng.choice([*TOWNS, ELISTA, ELISTA, ELISTA])
            out.append(obs(len(out) + 100_000, at, f"u{rng.randrange(50_000)}",
                           topic=rng.choice(["roads", "housing", "waste", "transport"]),
                           muni=place, settlement=None))
    return sorted(out, key=lambda o: o.at)


def water_outage(first: int, start: datetime, authors: int) -> list[Observation]:
    return [obs(first + k, start + timedelta(minutes=4 * k), f"resident{first + k}",
                hazards=("no_water",), words=("нет воды",)) for k in range(authors)]


def test_a_water_outage_from_different_authors_is_one_hazard_signal_with_its_reasons() -> None:
    detector = Detector()
    messages = water_outage(1, START, 8)
    fired_by = []
    for o in messages:
        if detector.observe(o):
            fired_by.append(o.id)
    assert fired_by == ["m3"]  # three residents are enough for a utility outage
    [signal] = detector.signals
    record = signal.as_dict()
    assert record["kind"] == "hazard"
    assert record["message_ids"] == [f"m{k}" for k in range(1, 9)]  # the later ones included
    assert record["first_message_id"] == "m1"
    assert record["fired_at"] == (START + timedelta(minutes=8)).isoformat()
    assert record["territory"]["settlement"] == {"name": "Яшкуль", "oktmo": "85654151051"}
    assert record["territory"]["municipality"]["name"] == "Яшкульский район"
    assert record["reason"]["hazard"] == "no_water"
    assert record["reason"]["words"] == ["нет воды"]
    assert record["reason"]["authors"] == ["resident1", "resident2", "resident3"]
    assert record["reason"]["expected"] < 0.1 and record["reason"]["p_value"] < 1e-3
    assert 0.5 <= record["confidence"] < 1
    assert record["severity"] in ("high", "critical")


def test_one_authors_flood_of_identical_posts_is_no_signal() -> None:
    detector = Detector()
    for k in range(80):
        detector.observe(obs(k, START + timedelta(seconds=20 * k), "spammer",
                             hazards=("no_water",), duplicate_of="m0" if k else None,
                             street="улица Ленина"))
    assert detector.signals == []


def test_anonymous_copies_count_as_one_voice() -> None:
    observation = Observation.from_enriched(
        {"author": ""}, {"id": "7", "duplicate_of": "3", "topic": {"code": "roads"}}, START)
    assert observation.author == "?3"
    assert observation.municipality is None and observation.hazards == ()


def test_messages_late_twice_or_without_place_give_a_result_not_an_exception() -> None:
    detector = Detector()
    nowhere = [obs(k, START + timedelta(minutes=k), f"a{k}", muni=None, settlement=None,
                   hazards=("no_water",)) for k in range(10)]
    for o in nowhere:  # no place and no street: nothing local to count
        assert detector.observe(o) == []
    detector.observe(obs(50, START + timedelta(hours=10), "b"))
    late = water_outage(60, START, 5)  # ten hours late: counted, fires nothing
    for o in late:
        assert detector.observe(o) == []
    assert detector.late == 5
    detector.observe(late[0])
    assert detector.skipped_duplicates == 1
    assert detector.signals == []
    naive = obs(70, datetime(2026, 10, 12, 17, 0), "c")  # a naive time is UTC
    assert detector.observe(naive) == []


def test_a_street_named_by_several_without_a_town_fires_and_learns_its_town() -> None:
    detector = Detector()
    for k in range(3):
        detector.observe(obs(k, START + timedelta(minutes=5 * k), f"r{k}", muni=None,
                             settlement=None, street="улица Степная", hazards=("flood",)))
    [signal] = detector.signals
    assert signal.municipality is None and signal.reason["street"] == "улица Степная"
    detector.observe(obs(9, START + timedelta(minutes=30), "r9", street="улица Степная",
                         hazards=("flood",)))
    assert signal.municipality == YASHKUL_DISTRICT and "m9" in signal.message_ids
    assert signal.severity() == "critical"


def test_a_topic_spike_in_a_village_fires_against_its_baseline() -> None:
    detector = Detector()
    detector.run(background(4, 200))
    assert detector.signals == []
    spike_at = START + timedelta(days=4, hours=1)
    for k in range(8):
        detector.observe(obs(500 + k, spike_at + timedelta(minutes=7 * k), f"v{k}",
                             topic="roads", muni=TOWNS[3], settlement=None))
    [signal] = detector.signals
    assert signal.kind == "spike" and signal.topic["code"] == "roads"
    assert signal.reason["baseline_per_day"] > 0
    assert signal.reason["observed_authors"] >= 5
    assert "ожидалось" in signal.reason["text"]


def test_a_region_wide_rise_is_not_an_emergency() -> None:
    """The first snow: roads everywhere at once, in proportion to each place's size."""
    detector = Detector()
    detector.run(background(4, 200))
    snow = START + timedelta(days=4)
    rng = random.Random(2)
    rise = []
    for k in range(400):
        place = rng.choice([*TOWNS, ELISTA, ELISTA, ELISTA])
        rise.append(obs(900 + k, snow + timedelta(minutes=rng.randrange(12 * 60)),
                        f"s{k}", topic="roads", muni=place, settlement=None))
    detector.run(sorted(rise, key=lambda o: o.at))
    assert detector.signals == []


def test_a_burst_of_one_text_from_different_authors() -> None:
    detector = Detector()
    for k in range(5):
        detector.observe(obs(k, START + timedelta(minutes=3 * k), f"p{k}", topic="roads",
                             settlement=None, duplicate_of="m0" if k else None))
    [signal] = detector.signals
    assert signal.kind == "burst" and signal.reason["group"] == "same_text"
    assert signal.fired_at == START + timedelta(minutes=9)  # the fourth author
    assert signal.message_ids == ["m0", "m1", "m2", "m3", "m4"]


def test_thresholds_per_region_and_topic() -> None:
    settings = DetectorSettings(by_region={"85": {"hazard_min_authors": 6}},
                                by_region_topic={("85", "roads"): {"window": 30}})
    assert settings.for_place("85", "utilities").hazard_min_authors == 6
    assert settings.for_place("86", "utilities").hazard_min_authors == 3
    assert settings.for_place("85", "roads").window == timedelta(minutes=30)
    detector = Detector(settings)
    detector.run(water_outage(1, START, 5))
    assert detector.signals == []
    detector.run(water_outage(10, START + timedelta(minutes=30), 3))
    assert [s.kind for s in detector.signals] == ["hazard"]
    loaded = DetectorSettings.from_dict({"default": {"burst_min_authors": 7},
                                         "region_topics": {"85/roads": {"window": 45}}})
    assert loaded.for_place("85", "roads").window == timedelta(minutes=45)
    assert loaded.for_place(None, None).burst_min_authors == 7
    with pytest.raises(ValueError, match="unknown threshold"):
        Thresholds().merged({"windw": 3})


def test_counting_model() -> None:
    # Poisson-like tail for a large dispersion: P(X >= 3 | mean 0.5) is about 0.0144.
    assert tail_probability(3, 0.5, 1e6) == pytest.approx(0.01439, rel=1e-3)
    assert tail_probability(0, 0.5, 5) == 1.0
    assert tail_probability(5, 0.5, 5) < tail_probability(5, 0.5, 1) < tail_probability(4, 0.5, 1)
    profile = WeekProfile(prior_per_hour=0.01)
    monday_noon = timestamp(datetime(2026, 10, 12, 9, 0, tzinfo=UTC))
    for k in range(50):
        profile.add(monday_noon + k)
    assert profile.factor(monday_noon) > 3 and profile.factor(monday_noon + 7200) < 1
    series = Series(started=0.0)
    for k in range(48):  # one message an hour for two days, out of a one-hour window
        series.add(k * 3600.0, 1.0, "a", str(k), horizon=3600.0)
    assert series.level_at_time(48 * 3600.0) == pytest.approx(1.0, rel=0.1)
