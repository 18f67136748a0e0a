"""The flask commands: what they do, and one clear line when they cannot."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Role, User


def test_create_user_reads_the_password_from_stdin(runner, make_project):
    make_project("IDF-MA-2014")
    result = runner.invoke(
        args=[
            "create-user",
            "Ana@Example.org",
            "--role",
            "manager",
            "--project",
            "IDF-MA-2014",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "ana@example.org"))
    assert user.role is Role.MANAGER
    assert [p.code for p in user.projects] == ["IDF-MA-2014"]
    assert "a long enough password" not in user.password_hash


def test_create_user_errors(runner, make_project):
    make_project("P1")
    db.session.commit()
    args = ["create-user", "x@example.org", "--role", "officer", "--password-stdin"]
    short = runner.invoke(args=args, input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    unknown = runner.invoke(args=[*args, "--project", "NOPE"], input="long enough pass\n")
    assert unknown.exit_code == 1
    assert "unknown project 'NOPE' (known: P1)" in unknown.output
    no_stdin = runner.invoke(args=args[:-1])
    assert no_stdin.exit_code == 2 and "--password-stdin" in no_stdin.output
    assert runner.invoke(args=args, input="long enough pass\n").exit_code == 0
    again = runner.invoke(args=args, input="long enough pass\n")
    assert again.exit_code == 1 and "already exists" in again.output
    assert db.session.scalar(select(db.func.count(User.id))) == 1


def test_report_errors_print_one_line(runner, make_project, tmp_path):
    make_project("P1")
    db.session.commit()
    out = str(tmp_path / "r.pdf")
    cases = [
        (["--project", "NOPE", "--out", out], "unknown project 'NOPE'"),
        (["--project", "P1", "--from", "2015-13-01", "--out", out], "--from: '2015-13-01'"),
        (
            ["--project", "P1", "--from", "2015-06-01", "--to", "2015-01-01", "--out", out],
            "--to is before --from",
        ),
        (
            ["--project", "P1", "--out", str(tmp_path / "missing" / "r.pdf")],
            "the folder",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(args=["report", "donor", *args])
        assert result.exit_code == 1, args
        assert message in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert result.output.startswith("Error: ")
    assert not (tmp_path / "r.pdf").exists()


def test_report_to_an_unwritable_path(runner, make_project):
    make_project("P1")
    db.session.commit()
    # /proc exists but takes no new files, even for root
    result = runner.invoke(
        args=["report", "donor", "--project", "P1", "--out", "/proc/tracker-report.pdf"]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot write /proc/tracker-report.pdf")
