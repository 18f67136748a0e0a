"""Report builders: pure functions from report data to bytes."""
