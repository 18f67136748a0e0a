"""``flask --app tracker audit verify | prune``: the audit log's hash chain."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy.exc import DBAPIError

from tracker import audit, audit_chain
from tracker.commands import fail, parse_date
from tracker.extensions import db


@click.group("audit")
def audit_group() -> None:
    """Check the audit log's hash chain, or delete its oldest lines behind a checkpoint."""


@audit_group.command("verify")
def verify_command() -> None:
    """Walk the hash chain of the audit log; exit 1 at the first line altered or removed.

    Reads the lines in chain order, a batch at a time. On success, prints the last
    line's number and hash: noted elsewhere (a ticket, a printed register), they show
    later that no line was removed from the end either.
    """
    verdict = audit_chain.verify(db.session.connection())
    db.session.rollback()
    if not verdict.intact:
        click.echo(
            f"Audit log broken at line {verdict.broken_at}: {verdict.reason}"
            f" ({verdict.lines} lines checked before it).",
            err=True,
        )
        raise SystemExit(1)
    click.echo(
        f"Audit log intact: {verdict.lines} lines checked;"
        f" last line number {verdict.head_seq}, hash {verdict.head_hash}."
    )


@audit_group.command("prune")
@click.option(
    "--before",
    "before",
    required=True,
    metavar="YYYY-MM-DD",
    help="Delete the lines written before this day (UTC).",
)
@click.option("--yes", is_flag=True, help="Do it; without it, only say how many lines would go.")
def prune_command(before: str, yes: bool) -> None:
    """Delete the oldest audit lines, where the law allows it, behind a signed checkpoint.

    The whole chain is verified first; the checkpoint keeps the hash of the last line
    deleted, signed with the secret key, so `audit verify` still proves the rest. On
    PostgreSQL, run it as the owner of the tables (the application's role has no
    DELETE on the log).
    """
    from datetime import UTC, datetime, time

    day = parse_date(before, "--before")
    moment = datetime.combine(day, time(0), tzinfo=UTC)
    conn = db.session.connection()
    if not yes:
        verdict = audit_chain.verify(conn)
        count = audit_chain.count_before(conn, moment)
        db.session.rollback()
        if not verdict.intact:
            fail(f"the audit log is broken at line {verdict.broken_at} ({verdict.reason})")
        click.echo(f"{count} audit line(s) before {day} would be deleted. Add --yes to do it.")
        return
    try:
        with audit.acting_as("cli:audit-prune"):
            deleted, checkpoint = audit_chain.prune(conn, moment, current_app.config["SECRET_KEY"])
            if checkpoint is not None:
                audit.record(
                    db.session,
                    "prune",
                    "audit_event",
                    None,
                    {
                        "before": day,
                        "deleted": deleted,
                        "through_line": checkpoint.through_id,
                        "through_hash": checkpoint.through_hash,
                    },
                )
            db.session.commit()
    except (ValueError, DBAPIError) as error:
        db.session.rollback()
        fail(f"{error}".splitlines()[0])
    click.echo(f"Deleted {deleted} audit line(s) written before {day}; the chain stays verifiable.")
