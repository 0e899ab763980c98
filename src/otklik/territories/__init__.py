"""Territories: region → municipality → settlement, with OKTMO codes and population."""
