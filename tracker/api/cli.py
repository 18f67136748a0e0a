"""``flask --app tracker create-token EMAIL --name NAME [--expires DAYS]``."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from tracker import audit
from tracker.api import tokens
from tracker.commands import fail
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import User


@click.command("create-token")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for (shown in its user's list).")
@click.option(
    "--expires",
    "days",
    type=int,
    default=None,
    help="Days until it expires (default: until revoked).",
)
def create_token_command(email: str, name: str, days: int | None) -> None:
    """Make an API token for the user EMAIL; print it once, alone on the last line."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        fail(f"no account has the e-mail {email}")
    with audit.acting_as("cli:create-token"):
        try:
            token, secret = tokens.create(user, name, days=days)
        except DomainError as error:
            fail(error.message)
        db.session.commit()
    expiry = token.expires_at.date().isoformat() if token.expires_at else "never"
    click.echo(
        f"Token “{token.name}” for {user.email} ({user.role.value}); expires: {expiry}. "
        "Keep it secret: it is shown only now."
    )
    click.echo(secret)
