"""Placements: models' behaviour, forms, views and services."""
