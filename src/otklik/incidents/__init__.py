"""Emergencies: the detector of signals in the message stream (pure, no database).

:mod:`otklik.incidents.detector` turns enriched messages into signals (a rate spike, a
hazard several residents report, a burst of the same message from different authors),
:mod:`otklik.incidents.baseline` is the counting model the spikes are measured against,
:mod:`otklik.incidents.settings` the thresholds per region and topic, and
:mod:`otklik.incidents.synthetic` the labelled stream the benchmark and tests replay.
See docs/incidents.md.
"""
