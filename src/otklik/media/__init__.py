"""Residents' photos: checked, re-encoded without metadata (the GPS position kept apart as a
place hint), stored by the project (docs/open311.md, "Фотографии")."""
