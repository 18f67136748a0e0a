"""The password policy, applied wherever a password is set (CLI, administrators, the user).

OWASP ASVS 5.0 6.2.x: a minimum length (ASVS asks 8; we default to 12, since the
accounts open the files of people at risk), at least 64 characters allowed, no
composition rules, no truncation or case folding, and a check against common
passwords. A password may not contain the name part of the account's e-mail
address either: it is the first thing an attacker tries.

The block list, ``common-passwords.txt.gz``, is the 20,000 most common passwords
that Django ships (Royce Williams' list, lowercased); see
``common-passwords.LICENSE`` beside it. A password is refused when, lowercased,
it is on the list, or when what is left after stripping digits and punctuation
from both ends is ("Password123!" is "password" with decoration).
"""

from __future__ import annotations

import functools
import gzip
import re
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")
#: words of this application and its users that a guesser tries first (ASVS 6.2.11)
CONTEXT_WORDS = frozenset(
    {"tracker", "iom", "oim", "migrant", "migrants", "migration", "motdepasse", "password"}
)
#: an e-mail name shorter than this is too short to look for inside a password
MIN_NAME_TO_CHECK = 3
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


class PasswordRejected(ValueError):
    """A new password breaks the policy; the message says which rule, in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@functools.cache
def common_passwords() -> frozenset[str]:
    """Return the block list, read once per process."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def is_common(password: str) -> bool:
    """Say whether ``password``, or its core without digits and punctuation around it, is common."""
    lowered = password.lower()
    core = _DECORATION.sub("", lowered)
    blocked = common_passwords()
    return (
        lowered in blocked
        or lowered.strip() in blocked
        or (bool(core) and (core in blocked or core in CONTEXT_WORDS))
    )


def length_limits() -> tuple[int, int]:
    """Return the configured (minimum, maximum) password length."""
    config = current_app.config
    return int(config["PASSWORD_MIN_LENGTH"]), int(config["PASSWORD_MAX_LENGTH"])


def problem(password: str, *, email: str | None = None) -> str | None:
    """Return why ``password`` is refused for the account ``email``, or None if it is accepted."""
    shortest, longest = length_limits()
    if len(password) < shortest:
        return _("The password must have at least %(num)d characters.", num=shortest)
    if len(password) > longest:
        return _("The password may have at most %(num)d characters.", num=longest)
    if is_common(password):
        return _(
            "This password is too common: an attacker would try it first. "
            "Choose another one, for example a sentence of several words."
        )
    name = (email or "").strip().lower().rpartition("@")[0]
    if len(name) >= MIN_NAME_TO_CHECK and name in password.lower():
        return _("The password must not contain the name of the e-mail address.")
    return None


def check(password: str, *, email: str | None = None) -> None:
    """Raise ``PasswordRejected`` if ``password`` breaks the policy."""
    message = problem(password, email=email)
    if message is not None:
        raise PasswordRejected(message)


def rules_text() -> str:
    """Return the policy in one sentence, for the help text under a new-password field."""
    shortest, _longest = length_limits()
    return _(
        "At least %(num)d characters, not a common password, and not the name of the e-mail "
        "address. A sentence of several words is long and easy to remember.",
        num=shortest,
    )
