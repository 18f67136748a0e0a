"""The participant search: which participants a user finds for some words and filters.

One query for the list page (and any later API), which paginates and renders it.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select

from tracker.extensions import db
from tracker.models import AuditEvent, Participant, Sex, User
from tracker.participants import merging
from tracker.participants.listing import listable
from tracker.permissions import can_see_names, in_scope
from tracker.text import digits, fold, sound_token

#: the orders a list can be sorted in; "name" only for users who may see names
SORTS = {
    "code": (Participant.code,),
    "name": (Participant.family_name, Participant.given_name, Participant.code),
    "registered": (Participant.registered_on.desc(), Participant.code),
}


def search_kind(q: str, names: bool) -> str | None:
    """Say what a search looks for (code, phone or name), never the text itself."""
    if not q:
        return None
    if not names:
        return "code"
    if not any(c.isalpha() for c in q) and len(digits(q)) >= 4:
        return "phone"
    return "name"


def allowed_sort(sort: str | None, user: User) -> str:
    """Return ``sort`` if ``user`` may sort the list that way, else "code"."""
    if sort not in SORTS or (sort == "name" and not can_see_names(user)):
        return "code"
    return sort


def search_query(
    q: str,
    user: User,
    *,
    project_id: int | None = None,
    sex: Sex | None = None,
    nationality: str | None = None,
    status: str = "active",
    sort: str = "code",
) -> Select:
    """Return the query of the participants of ``user``'s projects matching ``q`` and filters.

    ``q`` is a code for a viewer (a name search would reveal who is here), else a
    phone number (however it is spaced, with or without +212 or the leading 0) or
    words of the name. ``status`` is "active", "archived" or "all". Records merged
    into another are never found. Consent decides who a list shows ``user``
    (``tracker.participants.listing``): a viewer's codes follow the pseudonymous rule.
    """
    # a record merged into another is kept for the undo only: her code leads to the survivor
    query = select(Participant).where(
        in_scope(user, Participant.project_id),
        Participant.merged_into_id.is_(None),
        listable(user, Participant.id),
    )
    kind = search_kind(q, can_see_names(user))
    if kind == "code":
        query = query.where(Participant.code.icontains(q, autoescape=True))
    elif kind == "phone":
        number = digits(q).lstrip("0")
        query = query.where(Participant.search_text.contains(number, autoescape=True))
    elif kind == "name":
        # each word by its letters, or by its sound in the other script: "Mohamed"
        # finds "محمد" and "محمد" finds "Mohamed" (tracker.text.sound_token)
        for word in q.split():
            terms = fold(word).split()
            across = sound_token(word, of_script=True)
            letters = [Participant.search_text.contains(t, autoescape=True) for t in terms]
            if not letters:
                continue
            if across and len(terms) == 1:
                letters.append(Participant.search_text.contains(across, autoescape=True))
                query = query.where(or_(*letters))
            else:
                query = query.where(and_(*letters))
    if project_id is not None:
        query = query.where(Participant.project_id == project_id)
    if sex is not None:
        query = query.where(Participant.sex == sex)
    if nationality:
        query = query.where(Participant.nationality == nationality)
    if status == "active":
        query = query.where(Participant.archived_at.is_(None))
    elif status == "archived":
        query = query.where(Participant.archived_at.is_not(None))
    return query.order_by(*SORTS[allowed_sort(sort, user)])


def merged_lead(q: str, user: User) -> tuple[str, str, int] | None:
    """Say where a code searched for leads when its record was merged into another.

    Returns (the code searched, the survivor's code, the survivor's id), or None.
    """
    code = q.strip().upper()
    if not code:
        return None
    record = db.session.scalar(
        select(Participant).where(
            Participant.code == code,
            Participant.merged_into_id.is_not(None),
            in_scope(user, Participant.project_id),
        )
    )
    if record is None:
        return None
    survivor = merging.survivor_of(record)
    return record.code, survivor.code, survivor.id


def import_line(import_id: int) -> AuditEvent | None:
    """Return the audit line of an import of participants, or None."""
    return db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.id == import_id,
            AuditEvent.action == "import",
            AuditEvent.entity == "participants",
        )
    )


def imported_by(import_id: int) -> Select:
    """Return the ids of the participants an import created (their "created" lines say so)."""
    return select(AuditEvent.entity_id).where(
        AuditEvent.action == "create",
        AuditEvent.entity == "participant",
        AuditEvent.changes[("import", 1)].as_integer() == import_id,
    )
