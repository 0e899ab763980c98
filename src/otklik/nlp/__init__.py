"""Language understanding: small, pure, swappable stages that run without a database."""
