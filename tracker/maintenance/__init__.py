"""Keeping the data safe over time: backups, restores and the retention period."""
