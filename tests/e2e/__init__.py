"""Browser tests (Playwright, system Chromium); see conftest.py."""
