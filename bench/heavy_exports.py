"""Eight viewers exporting a large XLSX file at once: what the home page and the exports see.

Issue 17's probe: eight viewers exporting XLSX of 49,000 people at once took the home
page to 28.5 s and one export to a 500. This script builds (once) a SQLite database of
N synthetic participants with eight viewers and one officer, starts gunicorn (2
workers, 8 threads each, as the probe), has the eight viewers ask for the XLSX export
together (streamed: EXPORT_JOB_MIN_ROWS raised above N) while the officer opens the
home page every half second, and prints the figures. Not a test: nothing is judged.

    PYTHONPATH=<tree> python bench/heavy_exports.py --participants 49000 --dir /tmp/heavy

Run it with PYTHONPATH naming the tree to measure (before and after a change).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

PASSWORD = "bench password for heavy exports"  # noqa: S105 (a fictitious account's)
VIEWERS = 8


def build(directory: Path, participants: int) -> None:
    """Create the database with the synthetic programme and the accounts, once."""
    instance = directory / "instance"
    if (instance / "tracker.sqlite").exists():
        return
    instance.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(instance)}
    flask = [sys.executable, "-m", "flask", "--app", "tracker"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*flask, "seed", "--synthetic", str(participants)], env=env, check=True, capture_output=True
    )
    script = f"""
from tracker import create_app
from tracker.auth.services import create_user
from tracker.extensions import db
from tracker.models import Project, Role
app = create_app()
with app.app_context():
    projects = list(db.session.scalars(db.select(Project)))
    for n in range({VIEWERS}):
        create_user(f"viewer{{n}}@bench.example", {PASSWORD!r}, Role.VIEWER, projects=projects)
    create_user("officer@bench.example", {PASSWORD!r}, Role.OFFICER, projects=projects)
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", script], env=env, check=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/auth/login", timeout=60).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"email": email, "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
    answer = session.post(base + "/auth/login", data=data, timeout=60, allow_redirects=False)
    assert answer.status_code == 302, answer.status_code
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=49_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/heavy-exports-bench"))
    parser.add_argument("--format", default="xlsx", choices=("xlsx", "csv"))
    args = parser.parse_args()
    build(args.dir, args.participants)
    port = free_port()
    env = {
        **os.environ,
        "TRACKER_INSTANCE_PATH": str(args.dir / "instance"),
        "TRACKER_SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnop",
        "TRACKER_EXPORT_JOB_MIN_ROWS": str(args.participants * 10),
        "TRACKER_EXPORT_CSV_JOB_MIN_ROWS": str(args.participants * 10),
    }
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "8",
            "--bind", f"127.0.0.1:{port}", "--timeout", "300", "tracker:create_app()",
        ],
        # gunicorn puts its working folder first on the path: the tree measured
        cwd=os.environ.get("PYTHONPATH") or None,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(base + "/auth/login", timeout=60)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        viewers = [signed_in(base, f"viewer{n}@bench.example") for n in range(VIEWERS)]
        officer = signed_in(base, "officer@bench.example")
        officer.get(base + "/", timeout=60)  # warm
        quiet = []
        for _ in range(5):
            started = time.perf_counter()
            officer.get(base + "/", timeout=120)
            quiet.append(time.perf_counter() - started)
        results: list[tuple[int, float, int]] = [None] * VIEWERS  # type: ignore[list-item]
        barrier = threading.Barrier(VIEWERS + 1)

        def export(n: int) -> None:
            barrier.wait()
            started = time.perf_counter()
            answer = viewers[n].get(
                f"{base}/exports/participants.{args.format}?pseudonymous=y", timeout=300
            )
            results[n] = (answer.status_code, time.perf_counter() - started, len(answer.content))

        threads = [threading.Thread(target=export, args=(n,)) for n in range(VIEWERS)]
        for thread in threads:
            thread.start()
        barrier.wait()
        burst_started = time.perf_counter()
        home: list[float] = []
        while any(thread.is_alive() for thread in threads):
            started = time.perf_counter()
            status = officer.get(base + "/", timeout=300).status_code
            home.append(time.perf_counter() - started)
            assert status == 200, status
            time.sleep(0.5)
        for thread in threads:
            thread.join()
        burst = time.perf_counter() - burst_started
    finally:
        server.terminate()
        server.wait(30)
    statuses: dict[int, int] = {}
    for status, _seconds, _size in results:
        statuses[status] = statuses.get(status, 0) + 1
    print(f"{args.participants} participants, {VIEWERS} viewers, {args.format.upper()}")
    print(f"home page alone: median {statistics.median(quiet):.2f} s")
    print(
        f"home page during the burst ({len(home)} loads): median {statistics.median(home):.2f} s,"
        f" max {max(home):.2f} s"
    )
    print(f"answers: {dict(sorted(statuses.items()))}; burst over in {burst:.1f} s")
    for status, seconds, size in sorted(results, key=lambda r: r[1]):
        print(f"  {status} in {seconds:6.2f} s, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
