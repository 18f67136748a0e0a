"""The benchmark keeps working: every measurement runs at a tiny N (no timing is judged)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from bench import floor
from bench import run as bench
from tracker import indicators, synthetic
from tracker.extensions import db
from tracker.models import Project

EXPECTED = (
    "synthetic",
    "floor",
    "dashboard_live",
    "dashboard",
    "dashboard_first_view",
    "write_register",
    "write_complete",
    "indicators_verify",
    "indicators_rebuild",
    "concurrency",
    "search",
    "case_file",
    "donor_pdf",
    "export_csv",
    "export_xlsx",
    "import",
    "web_import",
    "startup",
)


@pytest.fixture
def results(tmp_path, database_url, monkeypatch, capsys):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    out = tmp_path / "results.json"
    bench.main(
        [
            "--participants", "200", "--repeat", "1", "--import-rows", "30",
            "--web-import-rows", "30",
            "--data-dir", str(tmp_path / "data"), "--database-url", database_url,
            "--json", str(out),
        ]
    )  # fmt: skip
    return json.loads(out.read_text()), capsys.readouterr().out


def test_every_measurement_is_in_the_table_and_the_json(results):
    data, printed = results
    assert data["participants"] == 200
    assert data["rows"]["participants"] == 200
    measured = {m["key"]: m for m in data["measurements"]}
    assert tuple(measured) == EXPECTED
    for key, m in measured.items():
        assert m["label"] in printed, key
        if not m["available"]:
            # only the import may be missing (its command is optional)
            assert key == "import" and "not available" in m["note"]
            continue
        assert m["runs"] and all(t > 0 for t in m["runs"]), key
        assert m["median_s"] > 0, key
        if key not in ("synthetic", "floor"):
            assert m["target"], key
            assert m["met"] in (True, False), key
            # timed only: a command's memory is measured where it works, a write's is small
            if key not in ("startup", "write_register", "write_complete"):
                assert m["peak_mb"] > 0, key
    for key in ("dashboard_live", "dashboard", "dashboard_first_view", "write_register"):
        assert measured[key]["floor_ratio"] > 0
    for key in ("export_csv", "export_xlsx"):
        assert measured[key]["rows"] == 200
        assert measured[key]["rows_per_s"] > 0
    assert set(data["floor_statements_s"]) == set(floor.statements(data["database"]))
    started = data["startup_s"]
    assert set(started) == {" ".join(args) for args in bench.STARTUP_COMMANDS}
    assert all(t["wall_s"] > 0 and t["cpu_s"] > 0 for t in started.values())
    assert "| measurement | median |" in printed


def test_the_floor_computes_the_dashboards_figures(app):
    synthetic.generate(300, 9)
    db.session.commit()
    project = db.session.scalar(select(Project).where(Project.code == synthetic.CODE))
    _total, timings, found = floor.run(db.engine, project.id, project.start_date, project.end_date)
    assert set(timings) == set(found)
    scope = indicators.Scope((project.id,), project.start_date, project.end_date)
    figures = indicators.headline(scope)
    for key in ("registered", "enrolled", "trained", "placed", "retained_6m"):
        assert found[key] == [(figures[key],)], key
    assert found["trained_and_placed"] == [(indicators.trained_and_placed(scope),)]

    def pairs(rows):
        return sorted((str(c), int(n)) for c, n in rows)

    for key, dimensions in (
        ("trained", ("sex", "age_group", "nationality", "region", "sector", "provider")),
        ("placed", ("sex", "age_group", "nationality", "region", "sector", "placement_kind")),
        ("institutions_strengthened", ("partner_kind",)),
        ("awareness_partners", ("partner_kind",)),
    ):
        for dimension in dimensions:
            expected = indicators.disaggregate(key, dimension, scope)
            assert pairs(found[f"{key}/{dimension}"]) == pairs(expected), (key, dimension)
    for key in ("trained", "placed"):
        trend = [(int(y), int(q), n) for y, q, n in indicators.by_quarter(key, scope)]
        assert sorted((int(y), int(q), n) for y, q, n in found[f"trend/{key}"]) == trend
    assert project.start_date == date(2019, 1, 1)
