"""Integrators' webhooks: subscriptions to events (``case.created`` …), signed JSON payloads
with a stable schema, delivered through the notifier's delivery log (docs/webhooks.md)."""
