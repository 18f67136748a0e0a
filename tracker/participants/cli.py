"""Commands for a data manager: duplicates (list, merge, undo) and a person's own copy.

``flask --app tracker duplicates list`` prints one line per likely pair (the rule of
``tracker.participants.duplicates``, as the forms and the quality panel show it);
``merge`` and ``unmerge`` do what the merge page does, audited as ``cli:merge``.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask_babel import force_locale
from sqlalchemy import select

from tracker import audit
from tracker.commands import fail, project_by_code, replacing
from tracker.config import LANGUAGES
from tracker.extensions import db
from tracker.models import Participant, ParticipantMerge, Role, User
from tracker.participants import duplicates, merging


@click.group("duplicates")
def duplicates_group() -> None:
    """Likely duplicate records."""


@duplicates_group.command("list")
@click.option("--project", "project_code", default=None, help="Only this project (code).")
@click.option(
    "--min-score",
    type=click.IntRange(0, 100),
    default=0,
    show_default=True,
    help="Only pairs whose names are at least this alike (%).",
)
def list_command(project_code: str | None, min_score: int) -> None:
    """Print one line per likely pair: both codes, the name score and the reasons."""
    project_ids = [project_by_code(project_code).id] if project_code else None
    with force_locale("en"):
        pairs = duplicates.pairs(duplicates.register(project_ids), min_score / 100)
    for pair in pairs:
        click.echo(
            f"{pair.first.label}\t{pair.second.label}\t{round(pair.match.score * 100)}\t"
            f"{pair.match.why}"
        )
    click.echo(f"{len(pairs)} pair(s)", err=True)


def _record(code: str) -> Participant:
    record = db.session.scalar(select(Participant).where(Participant.code == code))
    if record is None:
        fail(f"no participant has the code {code!r}")
    return record


@click.command("merge")
@click.argument("survivor_code")
@click.argument("other_codes", nargs=-1, required=True)
@click.option(
    "--keep",
    "keep_codes",
    multiple=True,
    metavar="COURSE_ID=CODE",
    help="In a course where several records are enrolled, keep the enrolment of CODE.",
)
@click.option("--dry-run", is_flag=True, help="Show what the merge would do; change nothing.")
def merge_command(
    survivor_code: str, other_codes: tuple[str, ...], keep_codes: tuple[str, ...], dry_run: bool
) -> None:
    """Merge OTHER_CODE… into SURVIVOR_CODE (default choices: the most recent values).

    Prints ``merge <ID>`` on its last line: the number to give ``unmerge``.
    """
    survivor = _record(survivor_code)
    others = [_record(code) for code in dict.fromkeys(other_codes)]
    keep = {}
    with force_locale("en"):
        comparison = merging.compare(survivor, others)
        for item in keep_codes:
            course_id, _sep, code = item.partition("=")
            if not course_id.isdigit() or not code:
                fail(f"--keep {item!r}: write it as COURSE_ID=CODE")
            conflict = next(
                (c for c in comparison.conflicts if c.course.id == int(course_id)), None
            )
            enrolment = conflict and next(
                (e for e in conflict.enrolments if e.participant.code == code), None
            )
            if enrolment is None:
                fail(f"--keep {item!r}: {code} has no conflicting enrolment in course {course_id}")
            keep[int(course_id)] = enrolment.id
        for field in comparison.fields:
            if field.differs:
                source = next(r for r in comparison.records if r.id == field.default)
                click.echo(f"{field.name}: from {source.code}")
        with audit.acting_as("cli:merge"):
            try:
                kept = merging.merge(survivor, others, keep=keep)
            except merging.MergeRefused as refused:
                db.session.rollback()
                hints = [
                    f"  course {c.course.id} ({c.course.title}): "
                    + ", ".join(e.participant.code for e in c.enrolments)
                    for c in comparison.conflicts
                ]
                message = refused.message
                if hints and refused.field:
                    message += " Use --keep COURSE_ID=CODE:\n" + "\n".join(hints)
                fail(message)
    if dry_run:
        db.session.rollback()
        click.echo("dry run: nothing was changed")
        return
    db.session.commit()
    click.echo(f"merged {', '.join(o for o in dict.fromkeys(other_codes))} into {survivor_code}")
    click.echo(f"merge {kept.id}")


@click.command("unmerge")
@click.argument("merge_id", type=int)
def unmerge_command(merge_id: int) -> None:
    """Undo the merge MERGE_ID: every record and moved row as it was before."""
    kept = db.session.get(ParticipantMerge, merge_id)
    if kept is None:
        fail(f"no merge has the number {merge_id}")
    with force_locale("en"), audit.acting_as("cli:merge"):
        try:
            merging.undo(kept)
        except merging.MergeRefused as refused:
            db.session.rollback()
            fail(refused.message)
    db.session.commit()
    click.echo(f"merge {merge_id} undone")


@click.command("subject-access")
@click.argument("code")
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    default=LANGUAGES[0],
    show_default=True,
    help="The language of the document (the JSON keeps the stored values).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "json"]), default="pdf", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def subject_access_command(code: str, language: str, fmt: str, out: Path) -> None:
    """Write everything held on the person CODE, for her (audited): PDF or JSON.

    The file is written with mode 0600; its SHA-256 is in the audit line.
    """
    from tracker.participants.subject_views import audit_detail, produce

    person = _record(code)
    # the document names people and users as an administrator reads them
    reader = User(email="cli:subject-access", name="", role=Role.ADMIN)
    with audit.acting_as("cli:subject-access"):
        content, _name = produce(person, reader, language=language, fmt=fmt)
        with replacing(out) as path:
            path.write_bytes(content)
        audit.record(
            db.session,
            "subject_access",
            "participant",
            person.id,
            audit_detail(content, language=language, fmt=fmt),
        )
        db.session.commit()
    click.echo(f"{out}: everything held on {code} ({fmt}, {language})")
