"""Trainings: models' behaviour, forms, views and services."""
