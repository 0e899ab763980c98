"""Server-rendered UI (Jinja2 + HTMX), Russian first with an English switch."""
