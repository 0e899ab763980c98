"""Emergency detector benchmark on a generated, labelled month (nothing read from outside).

A month of a region's background (100-1,000 messages a day, the heating season's start and
the first snow as ordinary region-wide rises), emergencies of 5 to 200 messages injected,
and a one-author spam flood (otklik.incidents.synthetic). The messages go through the
enrichment stages, then the detector, in time order. Printed: per emergency, whether it was
caught and how long after its first, third and fifth message; false alarms per region-week
(a signal that ties no emergency's message); the detector's own speed (CPU time, after the
stages), and the targets (docs/incidents.md).
Run: .venv/bin/python bench/bench_incidents.py [--days 30] [--seeds 15 16 17] [--region 85]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta

from otklik.incidents.detector import Detector, Observation
from otklik.incidents.replay import parse_time
from otklik.incidents.settings import DetectorSettings
from otklik.incidents.synthetic import Stream, generate
from otklik.nlp.pipeline import Pipeline

TARGET_AFTER_FIFTH = timedelta(minutes=30)
TARGET_FALSE_PER_WEEK = 1.0
TARGET_RATE = 1000.0


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:+.0f}"


def evaluate(stream: Stream, pipeline: Pipeline, settings: DetectorSettings
             ) -> tuple[list[dict[str, object]], int, float, int, int]:
    """Rows per emergency, false alarms, detector messages/s, messages, spam signals."""
    observations = []
    for start in range(0, len(stream.messages), 512):
        batch = stream.messages[start:start + 512]
        for raw, enriched in zip(batch, pipeline.process(batch), strict=True):
            at = parse_time(raw["created_at"])
            assert at is not None
            observations.append(Observation.from_enriched(raw, enriched, at))
    observations.sort(key=lambda o: o.at)
    detector = Detector(settings)
    started = time.process_time()
    detector.run(observations)
    cpu = time.process_time() - started
    owner = {mid: e.number for e in stream.emergencies for mid in e.message_ids}
    false_alarms = spam_signals = 0
    spam = set(stream.spam_ids)
    first_signal: dict[int, object] = {}
    for signal in detector.signals:
        numbers = {owner[m] for m in signal.message_ids if m in owner}
        if not numbers:
            false_alarms += 1
            spam_signals += bool(spam & set(signal.message_ids))
            print(f"  false alarm: {signal.kind} {signal.fired_at:%m-%d %H:%M} "
                  f"{signal.reason['text']}")
        for number in numbers:
            known = first_signal.get(number)
            if known is None or signal.fired_at < known.fired_at:  # type: ignore[attr-defined]
                first_signal[number] = signal
    rows = []
    for e in stream.emergencies:
        signal = first_signal.get(e.number)
        row: dict[str, object] = {"e": e, "signal": signal}
        if signal is not None:
            fired = signal.fired_at  # type: ignore[attr-defined]
            # A signal already open for the place (another emergency there) counts from the
            # message that joined it: as soon as the emergency's first message arrives.
            fired = max(fired, e.times[0])
            row["after_first"] = fired - e.times[0]
            row["after_third"] = fired - e.times[min(2, e.size - 1)]
            row["after_fifth"] = fired - e.times[min(4, e.size - 1)]
        rows.append(row)
    rate = len(observations) / cpu if cpu else float("inf")
    return rows, false_alarms, rate, len(observations), spam_signals


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[15, 16, 17])
    parser.add_argument("--region", default="85")
    parser.add_argument("--settings", help="thresholds as JSON (docs/incidents.md)")
    args = parser.parse_args()
    pipeline = Pipeline.default(region=args.region)
    settings = DetectorSettings.from_dict(json.loads(args.settings)) if args.settings else (
        DetectorSettings())
    total_false, weeks, rates, caught_big, big, in_time5, in_time3 = 0, 0.0, [], 0, 0, 0, 0
    for seed in args.seeds:
        stream = generate(region=args.region, days=args.days, seed=seed)
        rows, false_alarms, rate, messages, spam_signals = evaluate(stream, pipeline, settings)
        total_false += false_alarms
        weeks += args.days / 7
        rates.append(rate)
        print(f"\nseed {seed}: {messages} messages, {args.days} days, region {args.region}")
        print(f"{'#':>3} {'hazard':<11} {'place':<22} {'size':>4}  {'kind':<7} "
              f"{'min after 1st':>13} {'3rd':>5} {'5th':>5}")
        for row in rows:
            e = row["e"]
            signal = row["signal"]
            if e.size >= 10:  # type: ignore[attr-defined]
                big += 1
                caught_big += signal is not None
                if signal is not None and row["after_fifth"] <= TARGET_AFTER_FIFTH:  # type: ignore[operator]
                    in_time5 += 1
                if signal is not None and row["after_third"] <= TARGET_AFTER_FIFTH:  # type: ignore[operator]
                    in_time3 += 1
            if signal is None:
                timing = f"{'missed':>13} {'':>5} {'':>5}"
            else:
                timing = (f"{_minutes(row['after_first']):>13} "  # type: ignore[arg-type]
                          f"{_minutes(row['after_third']):>5} "  # type: ignore[arg-type]
                          f"{_minutes(row['after_fifth']):>5}")  # type: ignore[arg-type]
            print(f"{e.number:>3} {e.hazard:<11} {e.spot.name[:22]:<22} {e.size:>4}  "  # type: ignore[attr-defined]
                  f"{(signal.kind if signal else '-'):<7} {timing}")  # type: ignore[attr-defined]
        print(f"false alarms: {false_alarms} ({false_alarms / (args.days / 7):.2f} per week); "
              f"signals from the one-author spam flood of {len(stream.spam_ids)}: {spam_signals}")
    print("\nsummary")
    print(f"  emergencies of 10+ messages caught:        {caught_big}/{big}")
    print(f"  ... within 30 min of their 5th message:     {in_time5}/{big} (target: all)")
    print(f"  ... within 30 min of their 3rd message:     {in_time3}/{big} (aim)")
    print(f"  false alarms per region-week:              {total_false / weeks:.2f} "
          f"(target < {TARGET_FALSE_PER_WEEK})")
    print(f"  detector alone, messages/s (CPU, 1 core):  {min(rates):,.0f} "
          f"(target ≥ {TARGET_RATE:,.0f})")


if __name__ == "__main__":
    main()
