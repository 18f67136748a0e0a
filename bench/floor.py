"""The floor: the dashboard's aggregates written by hand in bare SQL.

Each statement computes one figure, breakdown or trend series that the
dashboard page shows, the way a person writing SQL directly would: a
semi-join (``IN``) for the breakdowns by a person's characteristics, one
``COUNT(DISTINCT …)`` for the rest. They run on the DB-API connection with
no SQLAlchemy in between, so ``dashboard ÷ floor`` is what the application
adds to the database's own work. Two dialects differ only in date arithmetic
(age at registration, year and quarter).
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

TRAINED = (
    "SELECT e.participant_id FROM enrolment e JOIN training_course c ON c.id = e.course_id "
    "WHERE e.status = 'completed' AND c.project_id = :p AND e.completed_on BETWEEN :s AND :e"
)
PLACED = (
    "SELECT pl.participant_id FROM placement pl "
    "WHERE pl.project_id = :p AND pl.start_date BETWEEN :s AND :e"
)

AGE = {
    "sqlite": (
        "CASE WHEN p.date_of_birth IS NOT NULL THEN"
        " CAST(substr(p.registered_on, 1, 4) AS INTEGER)"
        " - CAST(substr(p.date_of_birth, 1, 4) AS INTEGER)"
        " - (substr(p.registered_on, 6, 5) < substr(p.date_of_birth, 6, 5))"
        " WHEN p.birth_year IS NOT NULL THEN"
        " CAST(substr(p.registered_on, 1, 4) AS INTEGER) - p.birth_year END"
    ),
    "postgresql": (
        "CASE WHEN p.date_of_birth IS NOT NULL THEN"
        " date_part('year', age(p.registered_on, p.date_of_birth))"
        " WHEN p.birth_year IS NOT NULL THEN"
        " date_part('year', p.registered_on) - p.birth_year END"
    ),
}
YEAR_QUARTER = {
    "sqlite": "substr(f, 1, 4), (CAST(substr(f, 6, 2) AS INTEGER) + 2) / 3",
    "postgresql": "date_part('year', f), date_part('quarter', f)",
}


def _age_group(dialect: str) -> str:
    return (
        f"SELECT CASE WHEN a IS NULL THEN 'unknown' WHEN a < 18 THEN 'under_18'"
        f" WHEN a < 25 THEN '18_24' WHEN a < 35 THEN '25_34' WHEN a < 50 THEN '35_49'"
        f" ELSE '50_plus' END AS g, count(*) FROM (SELECT {AGE[dialect]} AS a"
        " FROM participant p WHERE p.id IN ({rows})) AS ages GROUP BY g"
    )


def statements(dialect: str) -> dict[str, str]:
    """Return the dashboard's aggregates as bare SQL, keyed by what they compute."""
    person = "SELECT p.{col}, count(*) FROM participant p WHERE p.id IN ({rows}) GROUP BY p.{col}"
    first = (
        "SELECT {yq}, count(*) FROM (SELECT participant_id, min(d) AS f FROM ({rows}) AS r"
        " GROUP BY participant_id) AS firsts GROUP BY 1, 2"
    )
    trained_dated = TRAINED.replace(
        "SELECT e.participant_id", "SELECT e.participant_id, e.completed_on AS d"
    )
    placed_dated = PLACED.replace(
        "SELECT pl.participant_id", "SELECT pl.participant_id, pl.start_date AS d"
    )
    partners = (
        "SELECT {select} FROM activity_attendance a JOIN activity ac ON ac.id = a.activity_id"
        " JOIN partner pa ON pa.id = a.partner_id WHERE ac.kind = '{kind}'"
        " AND ac.project_id = :p AND ac.held_on BETWEEN :s AND :e{group}"
    )
    sql = {
        "registered": (
            "SELECT count(*) FROM participant WHERE project_id = :p"
            " AND registered_on BETWEEN :s AND :e"
        ),
        "enrolled": (
            "SELECT count(DISTINCT e.participant_id) FROM enrolment e"
            " JOIN training_course c ON c.id = e.course_id"
            " WHERE c.project_id = :p AND e.enrolled_on BETWEEN :s AND :e"
        ),
        "trained": f"SELECT count(DISTINCT participant_id) FROM ({TRAINED}) AS t",
        "placed": f"SELECT count(DISTINCT participant_id) FROM ({PLACED}) AS t",
        "trained_and_placed": (
            f"SELECT count(DISTINCT participant_id) FROM ({TRAINED}) AS t"
            f" WHERE participant_id IN ({PLACED})"
        ),
        "retained_6m": (
            "SELECT count(DISTINCT pl.participant_id) FROM placement pl"
            " JOIN follow_up f ON f.placement_id = pl.id WHERE pl.project_id = :p"
            " AND pl.start_date BETWEEN :s AND :e AND f.months_after = 6 AND f.still_active"
        ),
        "placed/placement_kind": (
            "SELECT k, count(*) FROM (SELECT participant_id, CASE WHEN count(DISTINCT kind) > 1"
            " THEN 'both' ELSE max(kind) END AS k FROM placement WHERE project_id = :p"
            " AND start_date BETWEEN :s AND :e GROUP BY participant_id) AS kinds GROUP BY k"
        ),
    }
    for key, rows in (("trained", TRAINED), ("placed", PLACED)):
        for col in ("sex", "nationality", "region"):
            sql[f"{key}/{col}"] = person.format(col=col, rows=rows)
        sql[f"{key}/age_group"] = _age_group(dialect).format(rows=rows)
    for col in ("sector", "provider_id"):
        sql[f"trained/{col.removesuffix('_id')}"] = (
            f"SELECT c.{col}, count(DISTINCT e.participant_id) FROM enrolment e"
            " JOIN training_course c ON c.id = e.course_id WHERE e.status = 'completed'"
            f" AND c.project_id = :p AND e.completed_on BETWEEN :s AND :e GROUP BY c.{col}"
        )
    sql["placed/sector"] = (
        "SELECT sector, count(DISTINCT participant_id) FROM placement WHERE project_id = :p"
        " AND start_date BETWEEN :s AND :e GROUP BY sector"
    )
    for key, kind in (
        ("institutions_strengthened", "capacity_building"),
        ("awareness_partners", "awareness_workshop"),
    ):
        sql[key] = partners.format(select="count(DISTINCT a.partner_id)", kind=kind, group="")
        sql[f"{key}/partner_kind"] = partners.format(
            select="pa.kind, count(DISTINCT a.partner_id)", kind=kind, group=" GROUP BY pa.kind"
        )
    sql["trend/trained"] = first.format(yq=YEAR_QUARTER[dialect], rows=trained_dated)
    sql["trend/placed"] = first.format(yq=YEAR_QUARTER[dialect], rows=placed_dated)
    return sql


def _params(dialect: str, project_id: int, start: date, end: date) -> dict[str, Any]:
    if dialect == "sqlite":
        # SQLAlchemy stores SQLite dates as ISO text
        return {"p": project_id, "s": start.isoformat(), "e": end.isoformat()}
    return {"p": project_id, "s": start, "e": end}


def _driver_sql(dialect: str, sql: str) -> str:
    if dialect == "sqlite":
        return sql
    # psycopg: named parameters as %(name)s
    return re.sub(r":([a-z]+)\b", r"%(\1)s", sql)


def run(
    engine: Any, project_id: int, start: date, end: date
) -> tuple[float, dict[str, float], dict]:
    """Run every statement once on a raw DB-API connection.

    Return the total seconds, the seconds of each statement and their results.
    """
    dialect = engine.dialect.name
    params = _params(dialect, project_id, start, end)
    timings: dict[str, float] = {}
    results: dict[str, Any] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        for key, sql in statements(dialect).items():
            begun = time.perf_counter()
            cursor.execute(_driver_sql(dialect, sql), params)
            results[key] = cursor.fetchall()
            timings[key] = time.perf_counter() - begun
        total = time.perf_counter() - started
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return total, timings, results
