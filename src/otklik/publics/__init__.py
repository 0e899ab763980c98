"""Official public pages (госпаблики): the registry, collection through the channel
connectors, the methodology as data, the weekly rating with advice (docs/publics.md)."""
