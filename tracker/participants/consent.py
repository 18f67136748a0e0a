"""Consent: how it is recorded and withdrawn, and what each purpose allows.

A ``Consent`` row covers one purpose. It **holds** on a day when it was given
on or before that day, has not been withdrawn on or before it, and has not
expired before it (``Consent.is_valid_on``; ``holds()`` says the same in SQL).
A person may have several rows per purpose (a renewal after a withdrawal adds a
row); a purpose holds when one of its rows holds. Every rule below is judged
on the day the data leaves the screen (today), not on the dates of the events
shown: a withdrawal counts from the moment it is recorded, for any period.

Case management (``case_management``), the consent every registration needs:

1. **Figures keep everybody.** Without a current case-management consent a
   person still counts in the dashboard, the indicator tables and the donor
   report's tables: a count is not personal data, and taking people out would
   silently change figures already reported to a donor.
2. **Named exports leave the person out entirely.** Her row leaves the
   participants export, and her enrolment, placement and follow-up rows leave
   theirs. They are not kept with the identity blanked: blanking would leave
   her code, sex, nationality, region, status, incomes and business name in a
   file made for case work (still personal data, and easy to single out in a
   programme of a hundred women), a row that looks like an erased record, and
   a file whose rows can no longer be imported back. A data protection officer
   expects a withdrawal to stop the processing for that purpose, and handing
   her record to someone in a spreadsheet is that processing.
3. **The case file is frozen.** It stays readable to those who may read it,
   with a banner saying that the consent was withdrawn or has expired. Nothing
   new is recorded about her: identity edits, reopening the case file, new
   enrolments (she is not offered as a candidate either), new placements and
   new follow-ups (which mean contacting her) are refused. What stays possible:
   recording a new consent (which lifts all this), withdrawing other consents,
   archiving, erasure. Corrections of what is already recorded (closing an
   enrolment she attended, fixing a placement's dates) stay possible, because
   the figures she remains in must stay right.

Donor reporting (``donor_reporting``): rows that leave the organisation
pseudonymously, i.e. the donor report's annex of codes and every pseudonymous
row export (participants, enrolments, placements, follow-ups):

4. When a donor-reporting consent was ever recorded for a person, it decides:
   her code appears while one holds, and not once she withdrew it or it
   expired (she was asked, and her answer has limits that are honoured).
5. When none was ever recorded, the case-management consent stands for it (it
   was given knowing that the programme reports on its results, which is how
   the tracker always worked), so her code appears while that one holds. A
   person who withdrew her case-management consent and never said yes to donor
   reporting therefore leaves the pseudonymous rows too.
6. Aggregates stay exact either way (rule 1): a pseudonymous code is still
   personal data, a count is not.

Sharing with a partner (``partner_sharing``, with the named partner):

7. Data about a person go to a partner only while a sharing consent naming
   that very partner holds (``may_share_with``). The tracker sends nothing to
   partners today; any referral or sharing feature must ask this first.

**One decision per use** (``Use``; ``allowed`` for one person, ``allowed_sql``
for a query): every output of the tracker names its use and asks here.

- ``CASE_WORK``: the case workers' screens (participants list, case file,
  course rosters, drill-downs, the API's case files, for those who may see
  names): everybody, a frozen case file with its banner (rule 3).
- ``NAMED``: named files and feeds that leave the screen (named exports, the
  API's record lists for those who may see names, jobs' files): rule 2.
- ``PSEUDONYMOUS``: codes for those who may not see names or for outside the
  organisation (pseudonymous exports, the donor annex, every list a viewer
  reaches on a page or through the API): rules 4 and 5.
- ``AGGREGATE``: counts (dashboard, indicator tables, donor report tables,
  IATI and DHIS2 files): everybody (rule 1).
- ``PARTNER``: data sent to one named partner: rule 7.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, not_, or_, select, true

from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import Consent, ConsentPurpose, Participant, Partner

CASE = ConsentPurpose.CASE_MANAGEMENT
DONOR = ConsentPurpose.DONOR_REPORTING
SHARING = ConsentPurpose.PARTNER_SHARING


# --- What a consent allows, in Python (one person) ------------------------------------


def holds_for(participant: Participant, purpose: ConsentPurpose, today: date | None = None) -> bool:
    """Say whether one of the person's consents for ``purpose`` holds ``today``."""
    today = today or date.today()
    return any(c.purpose is purpose and c.is_valid_on(today) for c in participant.consents)


def case_management_holds(participant: Participant, today: date | None = None) -> bool:
    """Say whether the case file may be worked on: a case-management consent holds."""
    return holds_for(participant, CASE, today)


def may_share_with(participant: Participant, partner: Partner, today: date | None = None) -> bool:
    """Say whether data about ``participant`` may go to ``partner`` (rule 7)."""
    today = today or date.today()
    return any(
        c.purpose is SHARING and c.partner_id == partner.id and c.is_valid_on(today)
        for c in participant.consents
    )


def require_case_management(participant: Participant, today: date | None = None) -> None:
    """Refuse (DomainError) new processing of a person without case-management consent."""
    if not case_management_holds(participant, today):
        raise DomainError(
            _(
                "%(code)s has no current consent to case management: record a new consent "
                "before changing anything in the case file.",
                code=participant.code,
            )
        )


@dataclass(frozen=True)
class CaseConsentState:
    """Why a case file is frozen, for its banner: the last case consent and what ended it."""

    holds: bool
    #: "withdrawn", "expired", "not_yet" or "none" when it does not hold
    reason: str | None = None
    on: date | None = None


def case_consent_state(participant: Participant, today: date | None = None) -> CaseConsentState:
    """Return whether case-management consent holds and, if not, why (for the banner)."""
    today = today or date.today()
    rows = [c for c in participant.consents if c.purpose is CASE]
    if any(c.is_valid_on(today) for c in rows):
        return CaseConsentState(True)
    if not rows:
        return CaseConsentState(False, "none")
    last = max(rows, key=lambda c: (c.given_on, c.id or 0))
    if last.withdrawn_on and last.withdrawn_on <= today:
        return CaseConsentState(False, "withdrawn", last.withdrawn_on)
    if last.expires_on and last.expires_on < today:
        return CaseConsentState(False, "expired", last.expires_on)
    return CaseConsentState(False, "not_yet", last.given_on)


def status_of(consent: Consent, today: date | None = None) -> str:
    """Return "valid", "withdrawn", "expired" or "not_yet" for one consent row."""
    today = today or date.today()
    if consent.is_valid_on(today):
        return "valid"
    if consent.withdrawn_on and consent.withdrawn_on <= today:
        return "withdrawn"
    if consent.expires_on and consent.expires_on < today:
        return "expired"
    return "not_yet"


# --- The same rules in SQL (exports, the donor annex, lists) --------------------------


def holds(today: date) -> ColumnElement[bool]:
    """Return the condition on ``Consent`` that the row holds on ``today``."""
    return and_(
        Consent.given_on <= today,
        or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > today),
        or_(Consent.expires_on.is_(None), Consent.expires_on >= today),
    )


def _recorded(participant_id, purpose: ConsentPurpose, *conditions) -> ColumnElement[bool]:
    return exists(
        select(Consent.id).where(
            Consent.participant_id == participant_id, Consent.purpose == purpose, *conditions
        )
    )


def case_management_holds_sql(participant_id, today: date) -> ColumnElement[bool]:
    """Return the condition that the participant ``participant_id`` may appear by name."""
    return _recorded(participant_id, CASE, holds(today))


def donor_reporting_allowed_sql(participant_id, today: date) -> ColumnElement[bool]:
    """Return the condition that her code may appear in rows that leave the organisation.

    Rules 4 and 5: her donor-reporting consent if she was ever asked, else her
    case-management consent.
    """
    return or_(
        _recorded(participant_id, DONOR, holds(today)),
        and_(
            not_(_recorded(participant_id, DONOR)),
            _recorded(participant_id, CASE, holds(today)),
        ),
    )


# --- Recording and withdrawing --------------------------------------------------------


def record_consent(
    participant: Participant,
    purpose: ConsentPurpose,
    *,
    given_on: date,
    expires_on: date | None = None,
    partner: Partner | None = None,
    today: date | None = None,
) -> Consent:
    """Record a consent of ``participant`` for ``purpose``; flush only."""
    today = today or date.today()
    if participant.erased_at is not None:
        raise DomainError(_("An erased record cannot be edited."))
    if given_on > today:
        raise DomainError(_("The consent date cannot be in the future."), "given_on")
    if expires_on is not None and expires_on < given_on:
        raise DomainError(_("The consent cannot expire before it is given."), "expires_on")
    if purpose is SHARING and partner is None:
        raise DomainError(
            _("Name the partner the person agrees to share her data with."), "partner_id"
        )
    consent = Consent(
        purpose=purpose,
        given_on=given_on,
        expires_on=expires_on,
        # a partner belongs to a sharing consent only
        partner=partner if purpose is SHARING else None,
    )
    participant.consents.append(consent)
    db.session.flush()
    return consent


def withdraw_consent(consent: Consent, *, on: date, today: date | None = None) -> Consent:
    """Record that the person withdrew ``consent`` on ``on``; flush only."""
    today = today or date.today()
    if consent.withdrawn_on is not None:
        raise DomainError(_("This consent is already withdrawn."), "withdrawn_on")
    if on > today:
        raise DomainError(_("The withdrawal date cannot be in the future."), "withdrawn_on")
    if on < consent.given_on:
        raise DomainError(_("The consent cannot be withdrawn before it was given."), "withdrawn_on")
    consent.withdrawn_on = on
    db.session.flush()
    return consent


# --- One decision per use ----------------------------------------------------------------


class Use(enum.Enum):
    """What an output does with a person's data (see the module's docstring)."""

    CASE_WORK = "case_work"
    NAMED = "named"
    PSEUDONYMOUS = "pseudonymous"
    AGGREGATE = "aggregate"
    PARTNER = "partner"


def allowed(
    use: Use,
    participant: Participant,
    today: date | None = None,
    *,
    partner: Partner | None = None,
) -> bool:
    """Say whether ``participant``'s data may go to ``use`` today (the rules above)."""
    today = today or date.today()
    if use in (Use.CASE_WORK, Use.AGGREGATE):
        return True
    if use is Use.NAMED:
        return holds_for(participant, CASE, today)
    if use is Use.PSEUDONYMOUS:
        if any(c.purpose is DONOR for c in participant.consents):
            return holds_for(participant, DONOR, today)
        return holds_for(participant, CASE, today)
    if partner is None:
        raise ValueError("sharing with a partner names the partner")
    return may_share_with(participant, partner, today)


def allowed_sql(
    use: Use, participant_id, today: date | None = None, *, partner_id: int | None = None
) -> ColumnElement[bool]:
    """Return the condition that the participant ``participant_id`` may go to ``use`` today."""
    today = today or date.today()
    if use in (Use.CASE_WORK, Use.AGGREGATE):
        return true()
    if use is Use.NAMED:
        return case_management_holds_sql(participant_id, today)
    if use is Use.PSEUDONYMOUS:
        return donor_reporting_allowed_sql(participant_id, today)
    if partner_id is None:
        raise ValueError("sharing with a partner names the partner")
    return _recorded(participant_id, SHARING, holds(today), Consent.partner_id == partner_id)
