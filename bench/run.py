"""Benchmark the tracker on a synthetic programme of N participants.

Run from the repository root (default: 100,000 participants, 3 runs each)::

    .venv/bin/python -m bench.run --participants 100000

On SQLite the database is built once in ``bench/.data/`` (git-ignored) and
reused by later runs with the same N and seed; with ``DATABASE_URL`` set
(``postgresql://user@host/db``) it is built in that database, which must be
empty or hold the same synthetic project. Each measurement is the median of
``--repeat`` runs, with the fastest run beside it; the table goes to standard
output and the figures to ``bench/results-<database>.json`` (or ``--json``).

What is measured, and how:

* the dashboard page through the Flask test client, signed in as a manager:
  the first view after a change (figures computed live) and a repeat view;
* side by side, the floor: the same aggregates as bare hand-written SQL on a
  DB-API cursor (``bench/floor.py``), and the ratio of the live page to it;
* the participant list with a name search, and a case file;
* the donor PDF as a whole command (``flask report donor``, a subprocess);
* CSV and XLSX exports of every participant as whole ``flask export``
  commands, in rows per second net of the command's start-up: each run is
  paired with the same command on an empty database of the same schema, and
  the line's time is the difference of the medians;
* the import of 10,000 participant rows (``flask import participants``),
  when that command exists;
* the start-up of a few commands that read no data (``flask --app tracker
  --help`` and others), from process start to exit, with bytecode cached.

Peak memory is the resident set of the command (``ru_maxrss``) for commands,
and the Python heap's peak (``tracemalloc``, one extra run) for what runs in
process. A command is started by a small launcher process that reports its
child's ``ru_maxrss`` (``RUSAGE_CHILDREN``): Linux gives a child started
straight from the benchmark the benchmark's own high-water mark, whatever the
child used. The benchmark asserts nothing: targets are printed beside figures,
with "met" or "missed".
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
MANAGER = "bench-manager@example.org"
PASSWORD = "bench-password-not-secret"  # noqa: S105 (a throwaway account of the bench database)
MB = 1024 * 1024
#: commands whose start-up is timed: the app, its CLI and what they import, no data read
STARTUP_COMMANDS = (("--help",), ("report", "donor", "--help"), ("db", "current"))

#: indexes proposed for a migration (see docs/performance.md); created with --proposed-indexes
PROPOSED_INDEXES = {
    # covers "trained": the course is read from the index, not from the table
    "ix_enrolment_status_completed_course": (
        "enrolment",
        "status, completed_on, participant_id, course_id",
    ),
    # covers "enrolled": enrolments of the project's courses in the period
    "ix_enrolment_course_enrolled": ("enrolment", "course_id, enrolled_on, participant_id"),
}


@dataclass
class Measurement:
    """One line of the table."""

    key: str
    label: str
    runs: list[float] = field(default_factory=list)
    rows: int | None = None
    target: str = ""
    #: True when the target is met, False when not, None when it does not apply or is unknown
    met: bool | None = None
    floor_ratio: float | None = None
    peak_mb: float | None = None
    peak_kind: str = ""
    note: str = ""
    available: bool = True

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    @property
    def fastest(self) -> float | None:
        return min(self.runs) if self.runs else None

    @property
    def rate(self) -> float | None:
        if self.rows and self.median:
            return self.rows / self.median
        return None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(median_s=self.median, fastest_s=self.fastest, rows_per_s=self.rate)
        return data


# --- The database -------------------------------------------------------------------------------


def database_url(participants: int, rng_seed: int, data: Path = DATA) -> str:
    """Return DATABASE_URL (PostgreSQL) or the bench's own SQLite file for N and seed."""
    url = os.environ.get("TRACKER_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / f'synth-{participants}-{rng_seed}.sqlite'}"


def make_app(url: str, instance: Path):
    """Return the tracker app on ``url``, with a fast password hash for the bench account."""
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    from tracker import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "WTF_CSRF_ENABLED": False,
        }
    )


def prepare(app, participants: int, rng_seed: int, proposed_indexes: bool) -> dict[str, Any]:
    """Build the synthetic programme unless the database already holds it; add the manager."""
    from sqlalchemy import select, text

    from tracker import audit, synthetic
    from tracker.auth.services import create_user
    from tracker.extensions import db
    from tracker.indicator_store import keeping
    from tracker.models import AuditEvent, IndicatorPerson, Project, Role, User

    info: dict[str, Any] = {"built": False}
    with app.app_context():
        db.create_all()
        project = db.session.scalar(select(Project).where(Project.code == synthetic.CODE))
        if project is None:
            started = time.perf_counter()
            with audit.acting_as("bench"):
                result = synthetic.generate(participants, rng_seed)
                db.session.commit()
            with db.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
            info.update(built=True, build_s=time.perf_counter() - started, counts=result.counts)
            project = db.session.get(Project, result.project_id)
        else:
            line = db.session.scalar(
                select(AuditEvent).where(
                    AuditEvent.entity == "project",
                    AuditEvent.entity_id == project.id,
                    AuditEvent.action == "create",
                )
            )
            made = line.changes if line and line.changes else {}
            if (made.get("participants"), made.get("rng_seed")) != (participants, rng_seed):
                sys.exit(
                    f"The database holds a {synthetic.CODE} project made with "
                    f"{made.get('participants')} participants and seed {made.get('rng_seed')}, "
                    f"not {participants} and {rng_seed}: point DATABASE_URL at an empty database."
                )
            info["counts"] = {k: v for k, v in made.items() if isinstance(v, int)}
        if proposed_indexes:
            for name, (table, columns) in PROPOSED_INDEXES.items():
                db.session.execute(
                    text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")
                )
            db.session.commit()
            with db.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        if db.session.scalar(select(User.id).where(User.email == MANAGER)) is None:
            with audit.acting_as("bench"):
                create_user(MANAGER, PASSWORD, Role.MANAGER, name="Bench", projects=[project])
                db.session.commit()
        stored = db.session.scalar(
            select(IndicatorPerson.participant_id)
            .where(IndicatorPerson.project_id == project.id)
            .limit(1)
        )
        if stored is None:
            # a database built before the indicator store: fill it once
            with audit.acting_as("bench"):
                keeping.rebuild(project.id)
                db.session.commit()
        info.update(
            project_id=project.id,
            start=project.start_date,
            end=project.end_date,
            dialect=db.engine.dialect.name,
        )
    return info


# --- Timing helpers -------------------------------------------------------------------------------


def timed(
    function: Callable[[], Any], repeat: int, before: Callable[[], Any] | None = None
) -> list[float]:
    """Run ``function`` ``repeat`` times (``before`` untimed before each); return the durations."""
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return runs


def heap_peak_mb(function: Callable[[], Any], before: Callable[[], Any] | None = None) -> float:
    """Return the peak of the Python heap while ``function`` runs once (tracemalloc)."""
    if before is not None:
        before()
    tracemalloc.start()
    try:
        function()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / MB


#: runs the command given after the report file's path, then writes there its wall time,
#: exit code and peak resident set: RUSAGE_CHILDREN of a process that had no other child
LAUNCHER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[2:])
seconds = time.perf_counter() - started
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as report:
    json.dump({"seconds": seconds, "code": code, "peak_kb": peak_kb}, report)
"""


def run_command(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run a command; return (seconds, peak resident MB, exit code, output).

    The command runs under ``LAUNCHER``, a small Python process: on Linux a child
    inherits its parent's high-water mark across fork and exec, so ``ru_maxrss`` of
    a command started from this process (hundreds of MB once the database is
    built) says how big this process was, not the command.
    """
    with tempfile.TemporaryFile() as output, tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        launcher = [sys.executable, "-c", LAUNCHER, str(report), *args]
        code = subprocess.call(launcher, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
        if not report.exists():
            return 0.0, 0.0, code or 1, text
        measured = json.loads(report.read_text())
    # Linux reports ru_maxrss in kilobytes
    return measured["seconds"], measured["peak_kb"] / 1024, measured["code"], text


def time_command(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run a command; return (wall seconds, CPU seconds of the process, exit code, output)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    return elapsed, usage.ru_utime + usage.ru_stime, process.returncode, text


def _error_line(output: str) -> str:
    """Return the line of a command's output that names its error, shortened."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    named = [line for line in lines if "Error" in line.split(":")[0] or line.startswith("Error")]
    return ((named or lines or ["no output"])[-1])[:200]


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "tracker", *args]


def command_env(url: str, instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TRACKER_DATABASE_URL")}
    env.update(
        TRACKER_DATABASE_URL=url,
        TRACKER_INSTANCE_PATH=str(instance),
        TRACKER_SECRET_KEY="bench-secret-key-not-for-production",
    )
    return env


# --- The measurements -------------------------------------------------------------------------


class Bench:
    """Runs each measurement on one prepared database."""

    def __init__(self, app, info: dict[str, Any], url: str, instance: Path, repeat: int) -> None:
        self.app = app
        self.info = info
        self.url = url
        self.instance = instance
        self.repeat = repeat
        self.env = command_env(url, instance)
        self.client = app.test_client()
        response = self.client.post("/auth/login", data={"email": MANAGER, "password": PASSWORD})
        if response.status_code != 302:
            raise RuntimeError(f"the bench manager could not sign in ({response.status_code})")
        self.client.post("/auth/language/en")

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, query_string=params)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        return response

    # dashboard and floor -----------------------------------------------------------------

    def _floor_once(self) -> tuple[float, dict[str, float]]:
        from bench import floor
        from tracker.extensions import db

        with self.app.app_context():
            total, per_statement, _results = floor.run(
                db.engine, self.info["project_id"], self._cut_start(), self.info["end"]
            )
        return total, per_statement

    def _forget_dashboards(self) -> None:
        from tracker.dashboard import cache

        cache.clear_cache()

    def floor_and_live(self) -> tuple[Measurement, Measurement]:
        """Time the floor and the live dashboard page, runs interleaved (same machine load)."""
        floor = Measurement("floor", "dashboard aggregates, bare SQL (the floor)")
        live = Measurement(
            "dashboard_live",
            "dashboard page computed live (a period the indicator store does not serve)",
            target="≤ 1.3 × floor",
        )
        timings: list[dict[str, float]] = []
        for _ in range(self.repeat):
            total, per_statement = self._floor_once()
            floor.runs.append(total)
            timings.append(per_statement)
            live.runs.extend(timed(self._live_page, 1, self._forget_dashboards))
        floor.note = f"{len(timings[0])} statements"
        self.floor_statements = {
            key: statistics.median(t[key] for t in timings) for key in timings[0]
        }
        live.floor_ratio = live.median / floor.median
        live.met = live.floor_ratio <= 1.3
        live.peak_mb = heap_peak_mb(self._live_page, self._forget_dashboards)
        live.peak_kind = "heap"
        return floor, live

    def _cut_start(self) -> Any:
        """Return a start that cuts a month with events: the live computation's period."""
        if "cut_start" not in self.info:
            from sqlalchemy import func, select

            from tracker.extensions import db
            from tracker.models import Participant

            with self.app.app_context():
                people = Participant.project_id == self.info["project_id"]
                count = db.session.scalar(select(func.count()).where(people))
                day = db.session.scalar(
                    select(Participant.registered_on)
                    .where(people)
                    .order_by(Participant.id)
                    .offset(count // 2)
                    .limit(1)
                )
            self.info["cut_start"] = day + timedelta(days=1) if day.day == 1 else day
        return self.info["cut_start"]

    def _live_page(self) -> Any:
        """The dashboard from a day that cuts a month with events: computed live."""
        start = self._cut_start().isoformat()
        response = self.get("/dashboard/", start=start, end=self.info["end"].isoformat())
        if b'data-source="live"' not in response.data:
            raise RuntimeError("the dashboard of a cut period was not computed live")
        return response

    # the indicator store ---------------------------------------------------------------

    def _count_distinct_trained(self) -> float:
        """One bare COUNT(DISTINCT participant_id) over the completed enrolments."""
        from tracker.extensions import db

        sql = (
            "SELECT COUNT(DISTINCT e.participant_id) FROM enrolment e "
            "JOIN training_course c ON c.id = e.course_id "
            f"WHERE e.status = 'completed' AND c.project_id = {int(self.info['project_id'])}"
        )
        with self.app.app_context():
            connection = db.engine.raw_connection()
            try:
                cursor = connection.cursor()
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                return time.perf_counter() - started
            finally:
                connection.close()

    def _change_someone(self, n: int) -> None:
        """Record a change that moves figures: one person's region, through the service."""
        from sqlalchemy import select

        from tracker import audit
        from tracker.extensions import db
        from tracker.models import Participant
        from tracker.participants.services import update_participant

        with self.app.app_context(), audit.acting_as("bench"):
            person = db.session.scalar(
                select(Participant)
                .where(
                    Participant.project_id == self.info["project_id"],
                    Participant.erased_at.is_(None),
                    Participant.merged_into_id.is_(None),
                )
                .order_by(Participant.id)
                .offset(n % 50)
                .limit(1)
            )
            regions = ["Rabat-Salé-Kénitra", "Oriental"]
            update_participant(person, region=regions[n % 2])
            db.session.commit()

    def first_view(self) -> Measurement:
        """The dashboard just after a change, read from the store (the change untimed)."""
        m = Measurement(
            "dashboard_first_view",
            "dashboard page, first view after a change (indicator store)",
            target="p50 < 150 ms and ≤ 2 × COUNT(DISTINCT) of the trained",
        )
        counts = []
        changes = iter(range(10_000))
        for _ in range(max(self.repeat, 5)):
            counts.append(self._count_distinct_trained())
            self._change_someone(next(changes))
            response = None

            def page() -> None:
                nonlocal response
                response = self.get("/dashboard/")

            m.runs.extend(timed(page, 1))
            if b'data-source="store"' not in response.data:
                raise RuntimeError("the dashboard after a change was not read from the store")
        bare = statistics.median(counts)
        m.floor_ratio = m.median / bare
        m.met = m.median < 0.150 and m.floor_ratio <= 2
        m.note = f"bare COUNT(DISTINCT) {bare * 1000:.0f} ms; ratio to it in the floor column"
        self._change_someone(0)
        m.peak_mb = heap_peak_mb(lambda: self.get("/dashboard/"), lambda: self._change_someone(1))
        m.peak_kind = "heap"
        return m

    def writes(self) -> tuple[Measurement, Measurement]:
        """A registration and an enrolment completion, with the store kept and without it.

        Without: the store's commit hook is taken off for the run, and the people written
        then are applied afterwards, so the store stays exact.
        """
        from sqlalchemy import event, select

        from tracker import audit
        from tracker.extensions import db
        from tracker.indicator_store import keeping
        from tracker.models import Enrolment, EnrolmentStatus, Project, Sex, TrainingCourse
        from tracker.participants.services import register_participant
        from tracker.trainings.services import complete

        last_id = self._last_participant_id()
        runs = max(self.repeat, 5) * 4
        timings = {name: {True: [], False: []} for name in ("register", "complete")}
        with self.app.app_context(), audit.acting_as("bench"):
            project = db.session.get(Project, self.info["project_id"])
            open_ = db.session.scalars(
                select(Enrolment.id)
                .join(TrainingCourse, Enrolment.course_id == TrainingCourse.id)
                .where(
                    TrainingCourse.project_id == project.id,
                    Enrolment.status == EnrolmentStatus.ENROLLED,
                )
                .order_by(Enrolment.id)
                .limit(2 * runs)
            ).all()
            db.session.commit()
            unkept: set[int] = set()
            for n in range(2 * runs):
                kept = n % 2 == 0
                if not kept:
                    event.remove(db.session, "before_commit", keeping._before_commit)
                try:
                    started = time.perf_counter()
                    person = register_participant(
                        project, given_name="Bench", family_name=f"Write {n}", sex=Sex.FEMALE,
                        registered_on=self.info["end"], consent_on=self.info["end"],
                    )  # fmt: skip
                    db.session.commit()
                    timings["register"][kept].append(time.perf_counter() - started)
                    if n < len(open_):
                        enrolment = db.session.get(Enrolment, open_[n])
                        started = time.perf_counter()
                        complete(
                            enrolment, on=max(enrolment.enrolled_on, enrolment.course.start_date)
                        )
                        db.session.commit()
                        timings["complete"][kept].append(time.perf_counter() - started)
                        if not kept:
                            unkept.add(enrolment.participant_id)
                    if not kept:
                        unkept.add(person.id)
                finally:
                    if not kept:
                        event.listen(db.session, "before_commit", keeping._before_commit)
                        db.session.info.pop("indicator_touched", None)
            keeping.apply(unkept)
            # the completions are undone, so that the next run finds the same register
            for enrolment_id in open_:
                enrolment = db.session.get(Enrolment, enrolment_id)
                enrolment.status, enrolment.completed_on = EnrolmentStatus.ENROLLED, None
            db.session.commit()
        self._remove_participants_after(last_id)
        measurements = []
        for name, label in (
            ("register", "registration of a participant (service and commit)"),
            ("complete", "completion of an enrolment (service and commit)"),
        ):
            with_store, without = timings[name][True], timings[name][False]
            m = Measurement(
                f"write_{name}", label, runs=with_store,
                target="≤ 1.2 × the same write without the store",
            )  # fmt: skip
            if with_store and without:
                base = statistics.median(without)
                m.floor_ratio = m.median / base
                m.met = m.floor_ratio <= 1.2
                m.note = f"without the store {base * 1000:.1f} ms; ratio in the floor column"
            measurements.append(m)
        return tuple(measurements)

    def store_commands(self) -> tuple[Measurement, Measurement]:
        """``indicators verify`` and ``indicators rebuild`` as whole commands."""
        measurements = []
        for name in ("verify", "rebuild"):
            m = Measurement(
                f"indicators_{name}", f"flask indicators {name} (whole command)",
                target="< 1 min",
            )  # fmt: skip
            seconds, peak, code, output = run_command(flask_command("indicators", name), self.env)
            if code != 0:
                m.available, m.note = False, _error_line(output)
            else:
                m.runs, m.peak_mb, m.peak_kind = [seconds], peak, "process"
                m.met = seconds < 60
            measurements.append(m)
        return tuple(measurements)

    def dashboard(self, floor: Measurement) -> Measurement:
        m = Measurement("dashboard", "dashboard page, repeat view", target="p50 < 150 ms")
        self.get("/dashboard/")
        m.runs = timed(lambda: self.get("/dashboard/"), max(self.repeat, 5))
        m.floor_ratio = m.median / floor.median
        m.met = m.median < 0.150
        m.peak_mb = heap_peak_mb(lambda: self.get("/dashboard/"))
        m.peak_kind = "heap"
        return m

    # participants -------------------------------------------------------------------------

    def _someone(self) -> tuple[int, str]:
        """Return a person in the middle of the register with a placement: (id, name)."""
        from sqlalchemy import func, select

        from tracker.extensions import db
        from tracker.models import Participant, Placement

        with self.app.app_context():
            middle = db.session.scalar(select(func.max(Placement.participant_id)))
            person = db.session.scalar(
                select(Participant)
                .join(Placement, Placement.participant_id == Participant.id)
                .where(Participant.id <= (middle or 0) // 2 + 1)
                .order_by(Participant.id.desc())
            ) or db.session.scalar(select(Participant).order_by(Participant.id))
            return person.id, f"{person.given_name} {person.family_name}"

    def search(self) -> Measurement:
        _pid, name = self._someone()
        m = Measurement("search", "participant list, search by name", target="< 100 ms")
        m.runs = timed(lambda: self.get("/participants/", q=name), self.repeat)
        m.met = m.median < 0.100
        m.peak_mb = heap_peak_mb(lambda: self.get("/participants/", q=name))
        m.peak_kind = "heap"
        m.note = f"q={name!r}"
        return m

    def case_file(self) -> Measurement:
        pid, _name = self._someone()
        m = Measurement("case_file", "case file (timeline, history)", target="< 100 ms")
        m.runs = timed(lambda: self.get(f"/participants/{pid}"), self.repeat)
        m.met = m.median < 0.100
        m.peak_mb = heap_peak_mb(lambda: self.get(f"/participants/{pid}"))
        m.peak_kind = "heap"
        return m

    # donor report -----------------------------------------------------------------------------

    def donor_pdf(self) -> Measurement:
        m = Measurement("donor_pdf", "donor PDF, whole command", target="< 2 s")
        peaks = []
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "donor.pdf"
            for _ in range(self.repeat):
                seconds, peak, code, text = run_command(
                    flask_command("report", "donor", "--project", "SYNTH", "--out", str(out)),
                    self.env,
                )
                if code != 0:
                    m.available = False
                    m.note = f"failed (exit {code}): {_error_line(text)}"
                    return m
                m.runs.append(seconds)
                peaks.append(peak)
            m.note = f"{out.stat().st_size / MB:.1f} MB PDF"
        m.met = m.median < 2.0
        m.peak_mb, m.peak_kind = max(peaks), "rss"
        return m

    # exports ------------------------------------------------------------------------------------

    def _empty_env(self) -> dict[str, str]:
        """Return the commands' environment on an empty database of the same schema.

        SQLite: a file in a temporary folder. PostgreSQL: a schema of its own in the
        bench's database (``search_path``), made for the run and dropped by ``close``.
        """
        if getattr(self, "empty_url", None) is None:
            from sqlalchemy import text
            from sqlalchemy.engine import make_url

            from tracker.extensions import db

            url = make_url(self.url)
            if url.get_backend_name() == "sqlite":
                self.empty_folder = tempfile.TemporaryDirectory()
                empty = f"sqlite:///{Path(self.empty_folder.name) / 'empty.sqlite'}"
            else:
                schema = f"bench_empty_{os.getpid()}"
                with self.app.app_context(), db.engine.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                    connection.execute(text(f'CREATE SCHEMA "{schema}"'))
                self.empty_schema = schema
                query = {**url.query, "options": f"-csearch_path={schema}"}
                empty = url.set(query=query).render_as_string(hide_password=False)
            app = make_app(empty, self.instance)
            with app.app_context():
                db.create_all()
                db.engine.dispose()
            self.empty_url = empty
        return command_env(self.empty_url, self.instance)

    def close(self) -> None:
        """Remove the empty database of ``_empty_env``, if one was made."""
        if getattr(self, "empty_folder", None) is not None:
            self.empty_folder.cleanup()
        if getattr(self, "empty_schema", None) is not None:
            from sqlalchemy import text

            from tracker.extensions import db

            with self.app.app_context(), db.engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.empty_schema}" CASCADE'))

    def export(self, fmt: str) -> Measurement:
        """Time ``flask export participants --format FMT``, net of the command's start-up.

        Each run of the command on the bench database is paired with a run of the
        same command on an empty database (start-up, the app, the queries and the
        audit line, no rows); the line's time is the difference of their medians,
        so that rows per second say what each row costs. Peak memory: the largest
        resident set of the command on the bench database.
        """
        target_rate = 100_000 if fmt == "csv" else 10_000
        m = Measurement(
            f"export_{fmt}",
            f"{fmt.upper()} export of every participant (flask export, net of start-up)",
            target=f"≥ {target_rate:,} rows/s",
        )
        empty_env = self._empty_env()
        whole: list[float] = []
        startup: list[float] = []
        peaks: list[float] = []
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / f"participants.{fmt}"
            args = flask_command("export", "participants", "--format", fmt, "--out", str(out))
            for _ in range(self.repeat):
                for env, times in ((empty_env, startup), (self.env, whole)):
                    seconds, peak, code, text = run_command(args, env)
                    if code != 0:
                        m.available = False
                        m.note = f"`flask export` failed (exit {code}): {_error_line(text)}"
                        return m
                    times.append(seconds)
                peaks.append(peak)
            written = re.search(r"\(([\d,]+) rows", text)
            size = out.stat().st_size / MB
        m.rows = int(written.group(1).replace(",", "")) if written else None
        started = statistics.median(startup)
        # each run less the median start-up: the median of these is the difference of medians
        m.runs = [max(seconds - started, 0.001) for seconds in whole]
        m.met = m.rate is not None and m.rate >= target_rate
        m.peak_mb, m.peak_kind = max(peaks), "rss"
        m.note = (
            f"whole command {_duration(statistics.median(whole))}, start-up (empty "
            f"database) {_duration(started)}; {size:.1f} MB file"
        )
        self.exports_s = getattr(self, "exports_s", {})
        self.exports_s[fmt] = {"command_s": whole, "startup_s": startup}
        return m

    # four users at once on gunicorn ---------------------------------------------------------------

    def concurrency(self, users: int = 4, requests: int = 10) -> Measurement:
        """Time the dashboard's repeat view for one user, then for ``users`` at once.

        A real server (gunicorn, 2 sync workers, on a free local port) serves the
        bench database; each user signs in through the login form (CSRF token
        included) and reads the dashboard ``requests`` times. The line's figure is
        the p95 of the users at once; its target, twice the single user's p50.
        """
        m = Measurement(
            "concurrency",
            f"dashboard repeat view, {users} users at once on gunicorn -w 2",
            target="p95 < 2 × single-user p50",
        )
        try:
            import gunicorn  # noqa: F401
        except ImportError:
            m.available = False
            m.note = "not available: gunicorn is not installed (pip install -e '.[test]')"
            return m
        with Server(self.env) as server:
            sessions = [server.signed_in(MANAGER, PASSWORD) for _ in range(users)]
            for session in sessions:  # every worker computes the dashboard once
                for _ in range(3):
                    session.get("/dashboard/")
            single = [session_time(sessions[0], "/dashboard/") for _ in range(requests)]
            together: list[float] = []
            threads = [
                threading.Thread(
                    target=lambda s=session: together.extend(
                        session_time(s, "/dashboard/") for _ in range(requests)
                    )
                )
                for session in sessions
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            peak = server.peak_mb()
        p50 = statistics.median(single)
        p95 = statistics.quantiles(together, n=20)[18] if len(together) >= 2 else together[0]
        m.runs = together
        m.met = p95 < 2 * p50
        m.peak_mb, m.peak_kind = peak, "rss"
        m.note = f"single user p50 {p50 * 1000:.0f} ms; {users} users p95 {p95 * 1000:.0f} ms"
        self.concurrency_p95 = p95
        return m

    # import (placeholder until `flask import participants` exists) -------------------------------

    def bench_import(self, rows: int = 10_000) -> Measurement:
        """Time ``flask import participants FILE --project SYNTH`` on ``rows`` new rows.

        PLACEHOLDER: the importer (tracker/imports/) is being written. When the
        command does not exist, the line says "not available" and the bench goes
        on. Each run imports into the bench database and the imported people are
        deleted afterwards, so every run starts from the same register.
        """
        m = Measurement(
            "import", f"import of {rows:,} participant rows (whole command)", target="< 5 s"
        )
        m.rows = rows
        _seconds, _peak, code, text = run_command(flask_command("import", "--help"), self.env)
        if code != 0:
            m.available = False
            m.note = "not available: no `flask import` command yet"
            return m
        peaks = []
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "participants.csv"
            write_import_file(path, rows, self.info["start"], self.info["end"])
            for _ in range(self.repeat):
                before = self._last_participant_id()
                seconds, peak, code, text = run_command(
                    flask_command("import", "participants", str(path), "--project", "SYNTH"),
                    self.env,
                )
                imported = self._remove_participants_after(before)
                if code != 0:
                    m.available = False
                    m.note = f"failed (exit {code}): {_error_line(text)}"
                    return m
                m.runs.append(seconds)
                peaks.append(peak)
        m.met = m.median < 5.0
        m.peak_mb, m.peak_kind = max(peaks), "rss"
        m.note = f"{imported:,} rows written by the last run"
        return m

    # the web import, as jobs ------------------------------------------------------------------

    def web_import(self, rows: int = 50_000) -> Measurement:
        """Time a web import of ``rows`` rows on gunicorn: the upload's and the confirmation's
        answers (each a job's page), and how long their jobs take to end.

        The server runs its jobs itself (the embedded default's in-process workers, queue
        in the instance folder). The imported people are deleted afterwards.
        """
        m = Measurement(
            "web_import",
            f"web import of {rows:,} rows: upload and confirmation answers",
            target="< 2 s each",
        )
        m.rows = rows
        with tempfile.TemporaryDirectory() as folder, Server(self.env) as server:
            path = Path(folder) / "participants.csv"
            write_import_file(path, rows, self.info["start"], self.info["end"])
            data = path.read_bytes()
            browser = server.browser(MANAGER, PASSWORD)
            before = self._last_participant_id()
            started = time.perf_counter()
            status, location = browser.upload("/imports/", data, "participants.csv")
            upload_s = time.perf_counter() - started
            if status != 302 or "/jobs/" not in location:
                m.available = False
                m.note = f"the upload answered {status}"
                return m
            check_s, check_steps = browser.until_done(location)
            preview = browser.location(location)
            started = time.perf_counter()
            status, write_job = browser.post(preview + "/confirm", {}, form_page=preview)
            confirm_s = time.perf_counter() - started
            write_s, write_steps = browser.until_done(write_job)
            # the web process ran both jobs: its memory is theirs too
            m.peak_mb, m.peak_kind = server.peak_mb(), "rss"
            imported = self._remove_participants_after(before)
        m.runs = [upload_s, confirm_s]
        m.met = max(m.runs) < 2.0 and imported == rows
        m.note = (
            f"upload {upload_s:.2f} s, its check ended {check_s:.1f} s later "
            f"({check_steps} progress readings); confirmation {confirm_s:.2f} s, its writing "
            f"ended {write_s:.1f} s later ({write_steps} readings); {imported:,} rows written"
        )
        return m

    # start-up -------------------------------------------------------------------------------

    def startup(self) -> Measurement:
        """Time ``flask --app tracker <args>`` from process start to exit, for a few commands.

        Bytecode is written and read as an installed app's is (in the data folder, not
        next to the sources, whatever ``PYTHONDONTWRITEBYTECODE`` says): each command
        runs once untimed, which compiles what it imports, then ``2 × --repeat − 1``
        times. The line's figure is the slowest command's median wall time; each
        command's median wall and CPU (user + system) times are in the note and in the
        JSON (``startup_s``): on a shared machine the wall time also holds the waits.
        """
        m = Measurement(
            "startup",
            f"start-up of a command, the slowest of {len(STARTUP_COMMANDS)}",
            target="< 0.7 s",
        )
        env = {k: v for k, v in self.env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(self.instance.parent / "pycache")
        walls: dict[str, list[float]] = {}
        cpus: dict[str, list[float]] = {}
        for args in STARTUP_COMMANDS:
            command = " ".join(args)
            walls[command], cpus[command] = [], []
            for i in range(2 * self.repeat):
                wall, cpu, code, text = time_command(flask_command(*args), env)
                if code != 0:
                    m.available = False
                    m.note = f"`flask {command}` failed (exit {code}): {_error_line(text)}"
                    return m
                if i:  # the first run writes the bytecode
                    walls[command].append(wall)
                    cpus[command].append(cpu)
        self.startup_s = {
            command: {
                "wall_s": statistics.median(walls[command]),
                "cpu_s": statistics.median(cpus[command]),
            }
            for command in walls
        }
        slowest = max(self.startup_s, key=lambda command: self.startup_s[command]["wall_s"])
        m.runs = walls[slowest]
        m.met = m.median < 0.7
        m.note = "; ".join(
            f"{command} {_duration(t['wall_s'])} (CPU {_duration(t['cpu_s'])})"
            for command, t in self.startup_s.items()
        )
        return m

    def _last_participant_id(self) -> int:
        from sqlalchemy import func, select

        from tracker.extensions import db
        from tracker.models import Participant

        with self.app.app_context():
            return db.session.scalar(select(func.max(Participant.id))) or 0

    def _remove_participants_after(self, last_id: int) -> int:
        from sqlalchemy import delete, func, select

        from tracker import audit
        from tracker.extensions import db
        from tracker.indicator_store import keeping
        from tracker.models import Consent, Participant

        with self.app.app_context():
            added = db.session.scalar(
                select(func.count()).select_from(Participant).where(Participant.id > last_id)
            )
            # the indicator store takes them out in the same transaction
            keeping.touch(
                db.session,
                db.session.scalars(select(Participant.id).where(Participant.id > last_id)),
            )
            db.session.execute(delete(Consent).where(Consent.participant_id > last_id))
            db.session.execute(
                delete(Participant).where(Participant.id > last_id),
                execution_options=keeping.NOTED,
            )
            # every change is in the audit log: kept dashboards rely on it
            with audit.acting_as("bench"):
                audit.record(db.session, "delete", "participant", None, {"bench_import": added})
            db.session.commit()
            return added or 0


def session_time(session: Any, path: str) -> float:
    started = time.perf_counter()
    session.get(path)
    return time.perf_counter() - started


class Server:
    """gunicorn with 2 sync workers on a free local port, stopped on leaving the block."""

    def __init__(self, env: dict[str, str]) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.env = env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                f"127.0.0.1:{self.port}", "--timeout", "120", "tracker:create_app()",
            ],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url("/auth/login"), timeout=5).read()  # noqa: S310
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *_exc: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def peak_mb(self) -> float:
        """Return the largest resident set of the server's processes now (kB in /proc)."""
        peak = 0
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        for pid in pids:
            status = Path(f"/proc/{pid}/status")
            if status.exists():
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        return peak / 1024

    def signed_in(self, email: str, password: str) -> Any:
        """Return a session (cookies kept) signed in through the login form."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(self.url("/auth/login"), timeout=30).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if token is None:
            token = re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
        data = urllib.parse.urlencode(
            {"email": email, "password": password, "csrf_token": token.group(1) if token else ""}
        ).encode()
        opener.open(self.url("/auth/login"), data=data, timeout=30).read()
        server = self

        class Session:
            def get(self, path: str) -> bytes:
                response = opener.open(server.url(path), timeout=120)
                if "/auth/login" in response.geturl():
                    raise RuntimeError(f"{path}: not signed in")
                return response.read()

        return Session()

    def browser(self, email: str, password: str) -> _Browser:
        """Return a browser that does not follow redirects, signed in through the form."""
        browser = _Browser(self)
        browser.post("/auth/login", {"email": email, "password": password})
        return browser


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class _Browser:
    """A person's browser on ``server``: cookies, CSRF tokens, uploads, no redirects."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def _open(self, path: str, data: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(self.server.url(path), data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=300) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def _token(self, path: str) -> str:
        page = self._open(path)[2].decode()
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        return found.group(1) if found else ""

    def post(self, path: str, fields: dict, *, form_page: str | None = None) -> tuple[int, str]:
        fields = {"csrf_token": self._token(form_page or path), **fields}
        status, headers, _ = self._open(path, urllib.parse.urlencode(fields).encode())
        return status, headers.get("Location", "")

    def upload(self, path: str, data: bytes, name: str) -> tuple[int, str]:
        page = self._open(path)[2].decode()
        token = self._token(path)
        project = re.search(r'<option value="(\d+)"[^>]*>\s*SYNTH', page)
        boundary = "bench" + os.urandom(8).hex()
        fields = {"csrf_token": token, "kind": "participants", "project": project.group(1)}
        body = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"'
                "\r\nContent-Type: text/csv\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        status, answer, _ = self._open(path, body, headers)
        return status, answer.get("Location", "")

    def location(self, path: str) -> str:
        """Where a page sends the browser (a done job's page: to its result)."""
        return urllib.parse.urlparse(self._open(path)[1].get("Location", "")).path

    def until_done(self, job_page: str) -> tuple[float, int]:
        """Poll the job's JSON until it ends; its time and how many progress values were seen."""
        job = urllib.parse.urlparse(job_page).path.rstrip("/")
        started = time.perf_counter()
        seen = set()
        while True:
            state = json.loads(self._open(job + ".json")[2])
            seen.add((state.get("step"), state.get("done")))
            if state["state"] in ("done", "failed", "cancelled"):
                if state["state"] != "done":
                    raise RuntimeError(f"{job}: {state['state']}: {state.get('error')}")
                return time.perf_counter() - started, len(seen)
            time.sleep(0.2)


def write_import_file(path: Path, rows: int, start: Any, end: Any) -> None:
    """Write ``rows`` new participants in the export's columns, codes left to the importer."""
    from tracker import synthetic
    from tracker.columns import TABLES

    header = [c.name for c in TABLES["participants"].columns]
    generator = synthetic._Generator(rows, rng_seed=4242)
    people = generator.people()
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        for person in people:
            row = generator.person_row(person, 0, None)
            writer.writerow(
                {
                    **{k: ("" if v is None else v) for k, v in row.items()},
                    "code": "",
                    "date_of_birth": person.born.isoformat() if person.born else "",
                    "registered_on": person.registered_on.isoformat(),
                    "consent_given": "yes",
                    "consent_date": person.registered_on.isoformat(),
                    "project_code": synthetic.CODE,
                }
            )


# --- Output -------------------------------------------------------------------------------------


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def table(measurements: list[Measurement]) -> str:
    """Return the results as a Markdown table."""
    lines = [
        "| measurement | median | fastest | rows/s | target | × floor | peak MB | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in measurements:
        if not m.available:
            lines.append(f"| {m.label} | – | – | – | {m.target} | – | – | {m.note} |")
            continue
        verdict = {True: "met", False: "**missed**", None: ""}[m.met]
        rate = f"{m.rate:,.0f}" if m.rate else "–"
        ratio = f"{m.floor_ratio:.2f}" if m.floor_ratio is not None else "–"
        peak = f"{m.peak_mb:,.0f} ({m.peak_kind})" if m.peak_mb is not None else "–"
        lines.append(
            f"| {m.label} | {_duration(m.median)} | {_duration(m.fastest)} | {rate} | {m.target} "
            f"| {ratio} | {peak} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Prepare the database, run every measurement, print the table and write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--rng-seed", type=int, default=2019)
    parser.add_argument("--json", type=Path, default=None, help="default: bench/results-<db>.json")
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--web-import-rows", type=int, default=50_000)
    parser.add_argument(
        "--data-dir", type=Path, default=DATA, help="where the SQLite databases are kept"
    )
    parser.add_argument(
        "--database-url", default=None, help="default: DATABASE_URL, else SQLite in --data-dir"
    )
    parser.add_argument(
        "--proposed-indexes",
        action="store_true",
        help="add the indexes proposed in docs/performance.md to the bench database first",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated keys: floor,dashboard,search,case_file,"
        "donor_pdf,export_csv,export_xlsx,import,startup",
    )
    args = parser.parse_args(argv)
    if args.participants < 1 or args.repeat < 1:
        parser.error("--participants and --repeat must be at least 1")

    url = args.database_url or database_url(args.participants, args.rng_seed, args.data_dir)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    instance = args.data_dir / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    app = make_app(url, instance)
    print(f"Preparing {args.participants:,} participants on {url.split('://')[0]}…", flush=True)
    try:
        return _run(app, args, url, instance)
    finally:
        from tracker.extensions import db

        with app.app_context():
            db.engine.dispose()


def _run(app, args: argparse.Namespace, url: str, instance: Path) -> dict[str, Any]:
    """Run the measurements that ``args`` asks for; print and write the results."""
    info = prepare(app, args.participants, args.rng_seed, args.proposed_indexes)
    if info["built"]:
        print(f"Built the synthetic programme in {info['build_s']:.1f} s.", flush=True)
    bench = Bench(app, info, url, instance, args.repeat)
    try:
        return _measure(bench, app, args, info)
    finally:
        bench.close()


def _measure(bench: Bench, app, args: argparse.Namespace, info: dict[str, Any]) -> dict[str, Any]:
    """Run the measurements that ``args`` asks for on ``bench``; print and write the results."""
    wanted = set(args.only.split(",")) if args.only else None

    def want(key: str) -> bool:
        return wanted is None or key in wanted

    measurements: list[Measurement] = []
    if info.get("built"):
        build = Measurement(
            "synthetic", f"seed --synthetic {args.participants:,} (build, once)",
            runs=[info["build_s"]], target="well under a minute",
        )  # fmt: skip
        build.met = info["build_s"] < 60
        measurements.append(build)
    steps: list[tuple[str, Callable[[], Measurement | tuple[Measurement, ...]]]] = [
        ("dashboard", bench.floor_and_live),
        ("dashboard", lambda: bench.dashboard(measurements[-2])),
        ("dashboard", bench.first_view),
        ("writes", bench.writes),
        ("store", bench.store_commands),
        ("concurrency", bench.concurrency),
        ("search", bench.search),
        ("case_file", bench.case_file),
        ("donor_pdf", bench.donor_pdf),
        ("export_csv", lambda: bench.export("csv")),
        ("export_xlsx", lambda: bench.export("xlsx")),
        ("import", lambda: bench.bench_import(args.import_rows)),
        ("web_import", lambda: bench.web_import(args.web_import_rows)),
        ("startup", bench.startup),
    ]
    for key, step in steps:
        if not want(key):
            continue
        print(f"  {key}…", flush=True)
        produced = step()
        for result in produced if isinstance(produced, tuple) else (produced,):
            measurements.append(result)
            if not result.available:
                print(f"  {result.key}: {result.note}", flush=True)

    dialect = info["dialect"]
    results = {
        "database": dialect,
        "participants": args.participants,
        "rng_seed": args.rng_seed,
        "repeat": args.repeat,
        "proposed_indexes": args.proposed_indexes,
        "rows": info.get("counts", {}),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "measurements": [m.as_dict() for m in measurements],
        "floor_statements_s": getattr(bench, "floor_statements", {}),
        "startup_s": getattr(bench, "startup_s", {}),
        "exports_s": getattr(bench, "exports_s", {}),
    }
    out = args.json or ROOT / "bench" / f"results-{dialect}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print()
    print(f"{args.participants:,} participants on {dialect}, median of {args.repeat} runs:")
    print(table(measurements))
    print(f"\nWrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}.")
    return results


if __name__ == "__main__":
    main()
