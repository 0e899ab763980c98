"""Open311 GeoReport v2 (read side): discovery, services from the active rubricator, public
service requests from cases (docs/open311.md)."""
