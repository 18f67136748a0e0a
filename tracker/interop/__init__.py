"""Figures for other systems: IATI results (``iati``) and DHIS2 aggregates (``dhis2``).

Both carry the figures of ``tracker/indicators.py`` read as the dashboard reads
them (``figures``), for the reporting periods of a project (``periods``); the
builders are pure (data in, bytes out), ``services`` reads the database and
``cli`` adds ``export iati`` and ``export dhis2`` to ``flask --app tracker export``.
See docs/interop.md.
"""
