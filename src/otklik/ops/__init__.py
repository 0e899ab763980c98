"""Operating the service: health, readiness, metrics, counts."""
