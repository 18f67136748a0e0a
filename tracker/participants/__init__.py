"""Participants: models' behaviour, forms, views and services."""
