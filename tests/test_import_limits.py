"""Imports within bounds (issue 17): what a check keeps, how many uploads wait and for how
long, and what an officer learns of other projects from the importer's answers."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.test_imports import HEADER, csv_file, run_import, upload
from tests.test_kobo import submission
from tracker.api import tokens
from tracker.extensions import db
from tracker.imports import incoming
from tracker.imports.report import KEPT_PER_KIND, KEPT_PROBLEMS, Problem, Report
from tracker.jobs import housekeeping
from tracker.models import (
    IncomingSubmission,
    Job,
    Participant,
    PendingImport,
    Role,
    SubmissionState,
    now_utc,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def age(pending: PendingImport, days: float) -> None:
    pending.created_at = now_utc() - timedelta(days=days)
    db.session.commit()


# --- What a check keeps ---------------------------------------------------------------

#: a row with three bad cells: sex, nationality, e-mail
BAD = ";Fatou{n};Traoré;X;;Narnia;;;;pas-un-mail;;;;oui;2015-01-02;IDF-MA-2014;2015-01-02"


def test_a_check_keeps_the_first_problems_of_each_kind_and_counts_every_one(
    client, signin, manager, project
):
    """A file of bad cells stored every problem (issue 17: 294,000, a 31 MB summary)."""
    signin(manager)
    rows = 1_500
    assert upload(client, csv_file(*(BAD.format(n=n) for n in range(rows)))).status_code == 302
    pending = db.session.scalar(select(PendingImport))
    kept = Report.from_dict(pending.summary)
    assert len(kept.errors) <= KEPT_PROBLEMS
    for column in ("sex", "nationality", "email"):
        mine = [p for p in kept.errors if p.column == column]
        # the first ones, in row order
        assert [p.row for p in mine] == list(range(2, 2 + KEPT_PER_KIND))
        (more,) = [o for o in kept.omitted if o.column == column]
        assert (more.severity, more.count) == ("error", rows - KEPT_PER_KIND)
    assert kept.invalid == rows and kept.rows == rows
    assert len(json.dumps(pending.summary)) < 200_000
    page = client.get(f"/imports/{pending.token}").get_data(as_text=True)
    assert f"<dd>{rows}</dd>" in page  # every invalid row counted
    assert f"and {rows - KEPT_PER_KIND} more problems of this kind" in page
    response = client.get(f"/imports/{pending.token}/problems.csv")
    assert response.is_streamed
    listing = response.get_data(as_text=True)
    response.close()
    lines = listing.strip().splitlines()
    assert len(lines) == 1 + 3 * KEPT_PER_KIND + 3
    assert lines[-3:] == [
        f'"";"{column}";"";"error";"and {rows - KEPT_PER_KIND} more problems of this kind"'
        for column in ("sex", "nationality", "email")
    ]


def test_kept_problems_are_bounded_in_all_and_counted_by_kind(app):
    columns = [f"column_{n}" for n in range(8)]
    report = Report(kind="participants", filename="f.csv", sha256="0" * 64, rows=300)
    report.errors = [Problem(row, c, "bad", "x" * 80) for row in range(2, 302) for c in columns]
    report.warnings = [Problem(2, "city", "long " * 1000)]
    kept = Report.from_dict(report.to_dict())
    assert len(kept.errors) == KEPT_PROBLEMS and kept.invalid == 300
    omitted = {o.column: o.count for o in kept.omitted if o.severity == "error"}
    assert sum(omitted.values()) == len(report.errors) - KEPT_PROBLEMS
    for column in columns:
        shown = sum(p.column == column for p in kept.errors)
        assert shown <= KEPT_PER_KIND and shown + omitted.get(column, 0) == 300
    # a message quoting a long cell is kept shortened
    assert len(kept.warnings[0].message) <= 500
    # what is kept once more stays as it is
    again = Report.from_dict(kept.to_dict())
    assert again.to_dict() == kept.to_dict()


# --- Uploads waiting: how many, how long -------------------------------------------------

ONE = csv_file(";Awa;Diop;F;;SEN;;;;;;;;oui;2015-01-02;IDF-MA-2014;2015-01-02")


def test_uploads_waiting_are_capped_per_person(app, client, signin, officer, manager, project):
    assert app.config["IMPORT_MAX_PENDING"] == 5
    signin(manager)
    upload(client, ONE)  # someone else's upload does not count
    client.post("/auth/logout")
    signin(officer)
    for n in range(5):
        assert upload(client, ONE, name=f"people-{n}.csv").status_code == 302
    jobs = count(Job)
    refused = upload(client, ONE, name="sixth.csv")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "You have 5 uploads checked and not imported" in page
    mine = db.session.scalars(select(PendingImport).where(PendingImport.user_id == officer.id))
    mine = list(mine)
    assert len(mine) == 5 and count(Job) == jobs
    # each listed, to open and import or to delete
    for pending in mine:
        assert f'href="/imports/{pending.token}"' in page
        assert f'action="/imports/{pending.token}/cancel"' in page
    assert "sixth.csv" not in {p.filename for p in db.session.scalars(select(PendingImport))}
    # one deleted: room for another
    assert client.post(f"/imports/{mine[0].token}/cancel").status_code == 302
    assert upload(client, ONE, name="sixth.csv").status_code == 302
    # an upload past its day is gone, and does not count
    age(db.session.scalar(select(PendingImport).where(PendingImport.filename == "sixth.csv")), 2)
    assert upload(client, ONE, name="seventh.csv").status_code == 302


def test_an_expired_upload_is_neither_shown_nor_imported_before_the_purge(
    client, signin, manager, project
):
    signin(manager)
    upload(client, ONE)
    pending = db.session.scalar(select(PendingImport))
    token = pending.token
    age(pending, 12)  # issue 17: 12 days old, still previewable
    for response in (
        client.get(f"/imports/{token}"),
        client.get(f"/imports/{token}/problems.csv"),
        client.post(f"/imports/{token}/confirm"),
    ):
        assert response.status_code == 302 and response.headers["Location"] == "/imports/"
        response.close()
    page = client.get("/imports/").get_data(as_text=True)
    assert "This upload has expired" in page and token not in page
    assert count(Participant) == 0
    assert not db.session.scalar(select(Job).where(Job.kind == "import_write"))
    # a confirmation queued before the day ended is not written after it
    from tracker.imports import jobs as import_jobs
    from tracker.jobs.running import JobFailed, Progress

    job = Job(
        kind="import_write",
        user_id=manager.id,
        parameters={"pending": pending.id},
        state="running",
    )
    with pytest.raises(JobFailed):
        import_jobs.write(job, Progress.__new__(Progress))
    # its owner may still delete it
    assert client.post(f"/imports/{token}/cancel").status_code == 302
    assert count(PendingImport) == 0


def _stale_things(officer, project):
    """An upload two days old, one of today, a refused form submission 100 days old."""
    old, fresh = (
        PendingImport(
            token=f"t{n}",
            user_id=officer.id,
            kind="participants",
            project=project,
            filename="people.csv",
            sha256="0" * 64,
            size=3,
            summary={},
            content=b"a;b",
        )
        for n in range(2)
    )
    db.session.add_all([old, fresh])
    long_ago = now_utc() - timedelta(days=100)
    refused = IncomingSubmission(
        project=project,
        source="kobo",
        submission_uuid="u-1",
        received_by_id=officer.id,
        received_at=long_ago,
        last_received_at=long_ago,
        deliveries=1,
        state=SubmissionState.INVALID,
        payload={"participant/given_name": "Awa"},
    )
    db.session.add(refused)
    db.session.commit()
    age(old, 2)
    return fresh.id, refused.id


def test_the_housekeeping_purges_uploads_and_submissions_left_over(app, officer, project):
    fresh, refused = _stale_things(officer, project)
    with app.test_request_context():
        housekeeping.purge(app)
    db.session.expire_all()
    assert list(db.session.scalars(select(PendingImport.id))) == [fresh]
    record = db.session.get(IncomingSubmission, refused)
    assert record.state is SubmissionState.DISCARDED and record.payload is None


def test_the_workers_housekeeper_purges_at_its_first_round(app, officer, project):
    """Issue 17: uploads were purged only when someone uploaded again."""
    fresh, _refused = _stale_things(officer, project)
    app.config["JOBS_REAP_SECONDS"] = 0.05
    keeper = housekeeping.Housekeeper(app)
    keeper.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = count(PendingImport)
            db.session.rollback()  # no read lock held while the thread writes (SQLite)
            if left == 1:
                break
            time.sleep(0.05)
    finally:
        keeper.stop()
        keeper.join(5)
    assert not keeper.is_alive()
    assert list(db.session.scalars(select(PendingImport.id))) == [fresh]


# --- What an officer learns of other projects ------------------------------------------


def _answers(report, *secrets: str) -> list[tuple]:
    """The problems as the officer reads them, with the codes she typed masked."""

    def masked(text):
        for secret in secrets:
            text = (text or "").replace(secret, "<CODE>")
        return text

    return [
        (p.row, p.column, masked(p.message), masked(p.value))
        for p in (*report.errors, *report.warnings)
    ]


def test_a_code_of_another_project_is_answered_as_a_code_nobody_holds(
    officer, project, other_project, make_participant
):
    theirs = make_participant(other_project, given_name="Hidden")
    mine = make_participant(project, given_name="Known")
    db.session.commit()
    nobodys = "OTHER-0999"
    assert theirs.code == "OTHER-0001"

    def check(code, project_code="IDF-MA-2014"):
        row = f"{code};Awa;Diop;F;;SEN;;;;;;;;oui;2015-01-02;{project_code};2015-01-02"
        return run_import(csv_file(row), user=officer, dry_run=True)

    # in her project, in her project's file, in a project not hers: the same answers
    for project_code in ("IDF-MA-2014", "OTHER", "NOPE"):
        held, free = check(theirs.code, project_code), check(nobodys, project_code)
        assert _answers(held, theirs.code) == _answers(free, nobodys), project_code
        assert held.errors and "taken" not in str(held.errors)
    # her own project's numbering is hers to know
    assert "already taken" in check(mine.code).errors[0].message
    assert check("IDF-MA-2014-0900").valid == 1
    # an administrator sees every project: any code, as before
    assert count(Participant) == 2


@pytest.mark.parametrize(
    ("kind", "row"),
    [
        (
            "enrolments",
            "participant_code,project_code,course_title,course_start_date,enrolled_on,status,"
            "completed_on,dropped_on,attendance_pct,certificate\n"
            "{code},IDF-MA-2014,Couture,2015-02-01,2015-01-20,enrolled,,,,",
        ),
        (
            "placements",
            "participant_code,project_code,kind,employer,business_name,sector,start_date,"
            "end_date,contract_type,monthly_income,referral_partner,verified\n"
            "{code},IDF-MA-2014,iga,,Couture Awa,Couture,2015-08-01,,,1200,,",
        ),
        (
            "followups",
            "participant_code,placement_kind,placement_start_date,months_after,followed_on,"
            "still_active,monthly_income,note\n{code},iga,2015-08-01,6,2016-01-05,oui,2600,",
        ),
    ],
)
def test_rows_naming_a_participant_of_another_project_get_the_answer_of_nobody(
    officer, project, other_project, make_participant, make_course, kind, row
):
    from tracker.models import PlacementKind
    from tracker.placements.services import record_placement

    theirs = make_participant(other_project, registered_on=date(2015, 1, 2))
    make_course(other_project, title="Couture", start=date(2015, 2, 1))
    make_course(project, title="Couture", start=date(2015, 2, 1))
    record_placement(
        theirs,
        kind=PlacementKind.IGA,
        business_name="Couture Awa",
        sector="Couture",
        start_date=date(2015, 8, 1),
    )
    db.session.commit()
    held = run_import((row.format(code=theirs.code) + "\n").encode(), kind, user=officer)
    free = run_import((row.format(code="OTHER-0999") + "\n").encode(), kind, user=officer)
    assert held.errors and held.written == 0
    assert _answers(held, theirs.code) == _answers(free, "OTHER-0999")


def test_a_kobo_submission_registered_in_another_project_is_not_named(
    client, make_project, make_user, login
):
    ours, theirs = make_project("P1"), make_project("P2")
    officer = make_user(Role.OFFICER, projects=[ours], email="officer@example.org")
    manager = make_user(Role.MANAGER, projects=[ours], email="manager@example.org")
    other = make_user(Role.OFFICER, projects=[theirs], email="other@example.org")
    _token, secret = tokens.create(officer, "KoboToolbox")
    db.session.commit()
    # the same submission, registered in P2 by its own officer
    with force_locale("en"):
        incoming.receive(theirs, submission(), user=other)
    (registered,) = db.session.scalars(select(Participant))
    answer = client.post(
        "/api/v1/kobo/P1/submissions",
        json=submission(),
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "already_registered" and answer.json["code"] is None
    assert registered.code not in answer.get_data(as_text=True)
    login(manager)
    listed = client.get("/imports/incoming").get_data(as_text=True)
    assert registered.code not in listed
    assert count(Participant) == 1


def test_who_imported_a_file_is_told_only_for_her_own_projects(
    make_user, officer, project, other_project
):
    stranger = make_user(Role.MANAGER, [other_project], email="b.manager@example.org")
    colleague = make_user(Role.MANAGER, [project], email="a.manager@example.org")

    def people(project_code):
        return csv_file(
            f";Awa;Diop;F;;SEN;;;;;;;;oui;2015-01-02;{project_code};2015-01-02",
            header=HEADER,
        )

    their_file = people("OTHER")
    assert run_import(their_file, user=stranger).written == 1
    # the same file checked by an officer of another project: no word of it
    mine = run_import(their_file, user=officer, dry_run=True)
    assert not [w for w in mine.warnings if "imported" in w.message]
    # a file imported into her own project by a colleague: said, with who and when
    our_file = people("IDF-MA-2014")
    assert run_import(our_file, user=colleague).written == 1
    again = run_import(our_file, user=officer, dry_run=True)
    assert "imported on" in again.warnings[0].message


def test_two_uploads_sent_at_once_cannot_both_pass_the_cap(app, client, officer, project):
    """Counted one after the other: the second waits for the first to be stored, then is refused.

    Both browsers are signed in first (a sign-in writes her account's row, which would
    order them by itself). The first upload is held between its count and its commit;
    the second must not be counted meanwhile (on PostgreSQL both read 0 of 1 without
    the lock on her account): it is seen waiting on a lock before the first goes on.
    """
    import threading

    from tests.conftest import PASSWORD
    from tracker.jobs import queue

    app.config["IMPORT_MAX_PENDING"] = 1
    browsers = {}
    for name in ("first.csv", "second.csv"):
        browser = browsers[name] = app.test_client()
        browser.post("/auth/language/en")
        signed_in = browser.post("/auth/login", data={"email": officer.email, "password": PASSWORD})
        assert signed_in.status_code == 302
    db.session.commit()
    inside, release = threading.Event(), threading.Event()
    original = queue.submit
    calls = []

    def held_submit(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 1:  # the first upload: stored, not yet committed
            inside.set()
            release.wait(20)
        return original(*args, **kwargs)

    answers = {}

    def send(name):
        response = upload(browsers[name], ONE, name=name)
        answers[name] = (response.status_code, response.get_data(as_text=True))

    def second_waits_on_a_lock() -> bool:
        if db.engine.dialect.name != "postgresql":
            # SQLite: a writing request begins IMMEDIATE and waits for the first's commit
            return not second.join(1.0) and second.is_alive()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with db.engine.connect() as conn:
                waiting = conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                ).scalar()
            if waiting or not second.is_alive():
                return bool(waiting)
            time.sleep(0.05)
        return False

    queue.submit = held_submit
    try:
        first = threading.Thread(target=send, args=("first.csv",))
        first.start()
        assert inside.wait(20), "the first upload never reached its job"
        second = threading.Thread(target=send, args=("second.csv",))
        second.start()
        waited = second_waits_on_a_lock()
        release.set()
        first.join(30)
        second.join(30)
    finally:
        release.set()
        queue.submit = original
    assert waited, "the second upload was counted while the first was not stored yet"
    assert answers["first.csv"][0] == 302
    status, page = answers["second.csv"]
    assert status == 400 and "You have 1 upload checked and not imported" in page
    db.session.expire_all()
    assert [p.filename for p in db.session.scalars(select(PendingImport))] == ["first.csv"]
