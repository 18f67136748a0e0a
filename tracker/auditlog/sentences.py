"""Audit lines in plain sentences, in the reader's language, naming what the reader may see.

One place turns an ``AuditEvent`` into what a person reads: "Awa Diallo's phone
changed", "Region changed from Oriental to Souss-Massa". A participant is named for
those who may see names, in their own projects; anyone else reads her code. Fields are
named by their labels, values are formatted (dates, yes/no, choices by their label,
records by their name), an empty value is said in words, and masked values are never
shown. ``exact_changes`` keeps the stored line reachable, formatted, for the audit.

Each value set into a sentence (a name, a code, a title, an e-mail, a typed value) is
isolated for the bidirectional algorithm between FSI and PDI (U+2068, U+2069): in an
Arabic page a Latin name keeps its place, and a name ending in "." or ")" does not
carry the sentence's punctuation to the wrong end. Plain characters, not markup: the
page escapes the sentence as any text, and the JSON copy and the PDF (which drops
them once a line is in visual order, ``reports.script``) read them as well.

Every action written anywhere in the code has its sentence in ``ACTION_SENTENCES``
(a test reads the code for ``audit.record*`` calls and checks it), and an action
unknown here still reads as a sentence, never as a raw dictionary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from babel.lists import format_list as babel_format_list
from flask_babel import format_date, format_datetime, format_decimal, get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import models
from tracker.audit import (
    ENTITY_LABELS,
    FIELD_LABELS,
    MASK,
    READ_ACTIONS,
    action_label,
    entity_label,
    ranges_size,
)
from tracker.extensions import db
from tracker.i18n import country_name
from tracker.models import (
    Activity,
    ActivityAttendance,
    ApiToken,
    AuditEvent,
    Consent,
    Enrolment,
    FollowUp,
    GeneratedReport,
    Participant,
    Partner,
    Placement,
    Project,
    ProjectTarget,
    ReportNarrative,
    TrainingCourse,
    User,
)
from tracker.permissions import can_see_names, sees_all_projects

#: fields a sentence never shows, even masked: hashes, file contents, keyed digests
#: (the exact line, for the administrator, still lists them)
NOT_IN_SENTENCES = frozenset(
    {
        "sha256",
        "annex_sha256",
        "email_hash",
        "content",
        "annex_content",
        "figures",
        "parameters",
        "payload",
        "problems",
        "summary",
        "before",
        "after",
        "token",
        "token_hash",
        "password_hash",
        "session_token",
        "prefix",
        "definitions_version",
        "search_text",
    }
)

#: reference columns: which table the id points to (read once per page, by name)
REFERENCES: dict[str, str] = {
    "participant_id": "participant",
    "merged_into_id": "participant",
    "project_id": "project",
    "course_id": "training_course",
    "partner_id": "partner",
    "provider_id": "partner",
    "employer_id": "partner",
    "referral_partner_id": "partner",
    "activity_id": "activity",
    "placement_id": "placement",
    "user_id": "user",
    "registered_by_id": "user",
    "created_by_id": "user",
    "resolved_by_id": "user",
    "received_by_id": "user",
    "undone_by_id": "user",
    "survivor_id": "participant",
}
#: keys of a read's detail that list records by id: said by code (people) or counted
ID_LISTS = {
    "participant_ids": "participant",
    "placement_ids": "placement",
    "ids": None,
    "kept_enrolments": None,
}

#: labels of the keys of what is not a row change (a read, an export, an import...)
DETAIL_LABELS = {
    "page": _l("Page"),
    "via": _l("Through"),
    "context": _l("Shown for"),
    "participant_ids": _l("People shown"),
    "participant_ranges": _l("People in the file"),
    "placement_ids": _l("Placements shown"),
    "ids": _l("Records shown"),
    "results": _l("Results"),
    "search": _l("Search by"),
    "list": _l("List"),
    "dimension": _l("Breakdown"),
    "category": _l("Category"),
    "rows": _l("Rows"),
    "format": _l("Format"),
    "project": _l("Project"),
    "pseudonymous": _l("Pseudonymous"),
    "hxl": _l("HXL tags"),
    "from": _l("From"),
    "to": _l("To"),
    "file": _l("File"),
    "written": _l("Written"),
    "skipped": _l("Skipped"),
    "invalid": _l("Refused"),
    "download": _l("Download"),
    "kind": _l("Kind"),
    "lang": _l("Language"),
    "generated_report": _l("Report number"),
    "annex": _l("Annex"),
    "annex_rows": _l("Rows of the annex"),
    "reason": _l("Reason"),
    "uuid": _l("Submission"),
    "people": _l("People counted"),
    "group": _l("Group"),
    "bytes": _l("Size (bytes)"),
    "revision": _l("Schema revision"),
    "synthetic": _l("Synthetic data"),
    "rng_seed": _l("Random seed"),
    "pushed_to": _l("Sent to"),
    "error": _l("Error"),
    "last_activity": _l("Last activity"),
    "retention_years": _l("Retention (years)"),
    "job": _l("Job number"),
    "projects": _l("Projects"),
}

#: words for the values a detail takes (what the code writes, not what a person typed)
VALUE_LABELS = {
    ("page", "edit"): _l("the edit form"),
    ("page", "conflict"): _l("an editing conflict"),
    ("page", "subject_access"): _l("the page to make her own copy"),
    ("via", "api"): _l("the API"),
    ("context", "duplicate_check"): _l("a duplicate check"),
    ("context", "merge"): _l("a comparison before merging"),
    ("context", "audit_log"): _l("the audit log"),
    ("search", "name"): _l("name"),
    ("search", "phone"): _l("phone"),
    ("search", "code"): _l("code"),
    ("reason", "unknown_account"): _l("no account with this e-mail"),
    ("reason", "wrong_password"): _l("wrong password"),
    ("reason", "deactivated"): _l("account deactivated"),
    ("reason", "idle"): _l("inactive too long"),
    ("reason", "lifetime"): _l("session too old"),
    ("reason", "retention"): _l("retention period over"),
    ("download", "pdf"): _l("PDF"),
    ("download", "annex_csv"): _l("pseudonymous annex (CSV)"),
    ("kind", "donor"): _l("donor report"),
}

#: how many codes a sentence lists before saying how many more
MAX_CODES = 10

#: Unicode's first strong isolate and pop directional isolate
FSI, PDI = "\u2068", "\u2069"


def isolate(text: str) -> str:
    """Return ``text`` isolated, with its own direction, inside a sentence (FSI…PDI)."""
    return f"{FSI}{text}{PDI}" if text else text


@dataclass
class Line:
    """One audit line as a reader sees it."""

    event: AuditEvent
    sentence: str
    details: list[str] = field(default_factory=list)
    is_read: bool = False
    #: the participant the line is about, when the reader may open her case file
    participant_id: int | None = None


# --- the names of the records a page of lines talks about --------------------------------


#: entity -> (its key, its parent columns): what a line about a row hangs from
_PARENTS: dict[str, tuple[Any, dict[str, Any]]] = {
    "consent": (Consent.id, {"participant_id": Consent.participant_id}),
    "enrolment": (
        Enrolment.id,
        {"participant_id": Enrolment.participant_id, "course_id": Enrolment.course_id},
    ),
    "placement": (Placement.id, {"participant_id": Placement.participant_id}),
    "follow_up": (FollowUp.id, {"placement_id": FollowUp.placement_id}),
    "activity_attendance": (
        ActivityAttendance.id,
        {
            "activity_id": ActivityAttendance.activity_id,
            "partner_id": ActivityAttendance.partner_id,
        },
    ),
    "project_target": (ProjectTarget.id, {"project_id": ProjectTarget.project_id}),
    "report_narrative": (ReportNarrative.id, {"project_id": ReportNarrative.project_id}),
    "generated_report": (GeneratedReport.id, {"project_id": GeneratedReport.project_id}),
    "api_token": (ApiToken.id, {"user_id": ApiToken.user_id}),
}
_OWN = {
    "participant": "participant",
    "training_course": "training_course",
    "partner": "partner",
    "activity": "activity",
    "project": "project",
    "user": "user",
    "placement": "placement",
}


class Names:
    """The names of the records of a page of audit lines, as ``reader`` may read them.

    One query per kind of record; a record deleted since is named by its kind only.
    """

    def __init__(self, events: Sequence[AuditEvent], reader: User) -> None:
        self.reader = reader
        #: the people named so far (a read of personal data the page must log)
        self.named: set[int] = set()
        self.parents: dict[tuple[str, int], dict[str, int]] = {}
        wanted: dict[str, set[int]] = defaultdict(set)
        by_entity: dict[str, set[int]] = defaultdict(set)
        for event_ in events:
            if event_.entity_id is not None:
                by_entity[event_.entity].add(event_.entity_id)
                if event_.entity in _OWN:
                    wanted[_OWN[event_.entity]].add(event_.entity_id)
            for key, value in (event_.changes or {}).items():
                _want_values(wanted, key, value)
        for entity, ids in by_entity.items():
            if entity not in _PARENTS:
                continue
            key, columns = _PARENTS[entity]
            rows = db.session.execute(select(key, *columns.values()).where(key.in_(ids)))
            for row in rows:
                refs = dict(zip(columns, row[1:], strict=True))
                self.parents[(entity, row[0])] = refs
                for name, ref in refs.items():
                    if ref is not None:
                        wanted[REFERENCES[name]].add(ref)
        # a follow-up hangs from a placement, which hangs from a person
        self.placements: dict[int, int] = {}
        if wanted.get("placement"):
            for placement_id, participant_id in db.session.execute(
                select(Placement.id, Placement.participant_id).where(
                    Placement.id.in_(wanted["placement"])
                )
            ):
                self.placements[placement_id] = participant_id
                wanted["participant"].add(participant_id)
        self.people: dict[int, Participant] = _load(Participant, wanted.get("participant"))
        self.projects = {p.id: p.code for p in _load(Project, wanted.get("project")).values()}
        self.courses = {
            c.id: c.title for c in _load(TrainingCourse, wanted.get("training_course")).values()
        }
        self.partners = {
            p.id: p.acronym or p.name for p in _load(Partner, wanted.get("partner")).values()
        }
        self.activities = {a.id: a.title for a in _load(Activity, wanted.get("activity")).values()}
        self.users = {u.id: u.email for u in _load(User, wanted.get("user")).values()}
        if sees_all_projects(reader):
            self.scope: set[int] | None = None
        else:
            self.scope = {p.id for p in reader.projects}

    # -- people

    def may_name(self, person: Participant) -> bool:
        """Whether the reader may read this person's name (else her code)."""
        return (
            can_see_names(self.reader)
            and person.erased_at is None
            and (self.scope is None or person.project_id in self.scope)
        )

    def person(self, participant_id: int | None) -> str | None:
        person = self.people.get(participant_id) if participant_id is not None else None
        if person is None:
            return None
        if self.may_name(person):
            name = f"{person.given_name} {person.family_name}".strip()
            if name:
                self.named.add(person.id)
                return isolate(name)
        return isolate(person.code)

    def code(self, participant_id: Any) -> str | None:
        person = self.people.get(participant_id) if isinstance(participant_id, int) else None
        return isolate(person.code) if person is not None else None

    # -- records

    def reference(self, target: str, record_id: Any) -> str | None:
        """Name the record ``record_id`` of ``target`` (None when it is gone)."""
        if not isinstance(record_id, int) or isinstance(record_id, bool):
            return None
        if target == "participant":
            return self.person(record_id)
        if target == "placement":
            owner = self.person(self.placements.get(record_id))
            return gettext("%(person)s's placement", person=owner) if owner else None
        table = {
            "project": self.projects,
            "training_course": self.courses,
            "partner": self.partners,
            "activity": self.activities,
            "user": self.users,
        }.get(target, {})
        name = table.get(record_id)
        return isolate(name) if name is not None else None

    def parent(self, event_: AuditEvent, name: str) -> int | None:
        if event_.entity_id is None:
            return None
        return self.parents.get((event_.entity, event_.entity_id), {}).get(name)

    def participant_of(self, event_: AuditEvent) -> int | None:
        """The person a line is about, if any (and still on record)."""
        if event_.entity_id is None:
            return None
        if event_.entity == "participant":
            return event_.entity_id if event_.entity_id in self.people else None
        if event_.entity == "placement":
            return self.placements.get(event_.entity_id)
        if event_.entity == "follow_up":
            return self.placements.get(self.parent(event_, "placement_id"))
        return self.parent(event_, "participant_id")


def _want_values(wanted: dict[str, set[int]], key: str, value: Any) -> None:
    """Note the records a changed field or a detail points to."""
    target = REFERENCES.get(key) or ID_LISTS.get(key)
    if target is None:
        return
    values = value if isinstance(value, list) else [value]
    if key in ID_LISTS:
        values = values[:MAX_CODES]  # a list read of 200 people is said by its first codes
    for item in values:
        for one in item if isinstance(item, list) else [item]:
            if isinstance(one, int) and not isinstance(one, bool):
                wanted[target].add(one)


def _load(model, ids: Iterable[int] | None) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


# --- values --------------------------------------------------------------------------------


def _enum_for(entity: str, name: str):
    if name == "kind":
        return {
            "placement": models.PlacementKind,
            "activity": models.ActivityKind,
            "partner": models.PartnerKind,
            "training_course": models.CourseKind,
        }.get(entity)
    return {
        "sex": models.Sex,
        "status": models.EnrolmentStatus,
        "contract_type": models.ContractType,
        "migration_status": models.MigrationStatus,
        "education_level": models.EducationLevel,
        "purpose": models.ConsentPurpose,
        "role": models.Role,
        "state": models.SubmissionState if entity == "incoming_submission" else None,
    }.get(name)


def format_list(items: Sequence[str]) -> str:
    """Join ``items`` as the language does ("a, b and c", « a, b et c »)."""
    if not items:
        return ""
    return babel_format_list(list(items), locale=get_locale() or "fr")


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def format_value(entity: str, name: str, value: Any, names: Names | None = None) -> str:
    """Return a stored value as a person reads it, in the current language."""
    if _is_empty(value):
        return gettext("(empty)")
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if names is not None and name in REFERENCES:
        return names.reference(REFERENCES[name], value) or gettext("a record since deleted")
    enum_cls = _enum_for(entity, name)
    if enum_cls is not None:
        try:
            return enum_cls(value).label
        except ValueError:
            return isolate(str(value))
    if name == "nationality" and isinstance(value, str):
        return country_name(value) or value
    if isinstance(value, float):
        return format_decimal(value)
    if isinstance(value, list):
        return format_list([format_value(entity, name, v, names) for v in value])
    if isinstance(value, dict):
        return "; ".join(
            gettext("%(field)s: %(value)s", field=_label(k), value=format_value(entity, k, v))
            for k, v in value.items()
        )
    if isinstance(value, str):
        when = _as_date(value)
        if when is not None:
            return (
                format_datetime(when, "short") if isinstance(when, datetime) else format_date(when)
            )
        label = VALUE_LABELS.get((name, value))
        if label is not None:
            return str(label)
    return isolate(str(value))


def _as_date(text: str) -> date | datetime | None:
    """Read an ISO date or time written by the log (never a free text that looks like one)."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if len(text) > 10 and text[4] == "-" and text[10] == "T":
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


def _label(name: str) -> str:
    label = FIELD_LABELS.get(name) or DETAIL_LABELS.get(name) or ENTITY_LABELS.get(name)
    if label is not None:
        return str(label)
    return name.replace("_", " ").capitalize()


def _lower_first(text: str) -> str:
    """Lower the first letter of a label set inside a sentence ("Phone" -> "phone")."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def describe_change(entity: str, name: str, change: Any, names: Names | None = None) -> str:
    """Return one changed field in words: "Region changed from Oriental to Souss-Massa".

    An empty side is said in words ("set to …", "removed"); a masked value is never shown.
    """
    label = _label(name)
    if not isinstance(change, list) or len(change) != 2:
        return gettext(
            "%(field)s: %(value)s", field=label, value=format_value(entity, name, change, names)
        )
    old, new = change
    if MASK in (old, new):
        if old is None:
            return gettext("%(field)s filled in (the value is not kept in the log)", field=label)
        return gettext("%(field)s changed (the value is not kept in the log)", field=label)
    if _is_empty(old) and _is_empty(new):
        return gettext("%(field)s left empty", field=label)
    if _is_empty(old):
        return gettext(
            "%(field)s set to %(new)s", field=label, new=format_value(entity, name, new, names)
        )
    if _is_empty(new):
        return gettext(
            "%(field)s removed (was %(old)s)",
            field=label,
            old=format_value(entity, name, old, names),
        )
    return gettext(
        "%(field)s changed from %(old)s to %(new)s",
        field=label,
        old=format_value(entity, name, old, names),
        new=format_value(entity, name, new, names),
    )


def _fields(names: Iterable[str]) -> str:
    return format_list([_lower_first(_label(n)) for n in names])


# --- what a line is about --------------------------------------------------------------------


def thing(event_: AuditEvent, names: Names) -> str:
    """Name what a line is about: "Awa Diallo's enrolment in Couture", "course Couture"."""
    entity, record_id = event_.entity, event_.entity_id
    person = names.person(names.participant_of(event_))
    if entity == "participant":
        if person:
            return gettext("%(person)s's record", person=person)
        return gettext("a participant's record")
    if entity == "consent" and person:
        return gettext("%(person)s's consent", person=person)
    if entity == "enrolment" and person:
        course = names.reference("training_course", names.parent(event_, "course_id"))
        if course:
            return gettext("%(person)s's enrolment in “%(course)s”", person=person, course=course)
        return gettext("%(person)s's enrolment", person=person)
    if entity == "placement" and person:
        return gettext("%(person)s's placement", person=person)
    if entity == "follow_up" and person:
        return gettext("a follow-up of %(person)s's placement", person=person)
    own = {
        "training_course": (names.courses, _l("course “%(name)s”")),
        "partner": (names.partners, _l("partner %(name)s")),
        "activity": (names.activities, _l("activity “%(name)s”")),
        "project": (names.projects, _l("project %(name)s")),
        "user": (names.users, _l("account %(name)s")),
    }
    if entity in own and record_id is not None:
        table, phrase = own[entity]
        if record_id in table:
            return str(phrase) % {"name": isolate(table[record_id])}
    if entity == "activity_attendance":
        activity = names.reference("activity", names.parent(event_, "activity_id"))
        partner = names.reference("partner", names.parent(event_, "partner_id"))
        if activity and partner:
            return gettext(
                "attendance of %(partner)s at “%(activity)s”", partner=partner, activity=activity
            )
    project = names.reference("project", names.parent(event_, "project_id"))
    if project:
        phrase = {
            "project_target": _l("a target of project %(name)s"),
            "report_narrative": _l("the report narrative of project %(name)s"),
            "generated_report": _l("a donor report of project %(name)s"),
        }.get(entity)
        if phrase is not None:
            return str(phrase) % {"name": project}
    if entity == "api_token":
        owner = names.reference("user", names.parent(event_, "user_id"))
        if owner:
            return gettext("an API token of %(name)s", name=owner)
    if record_id is None and event_.action == "view":
        lists = {
            "participants": _l("the list of participants"),
            "placements": _l("the list of placements"),
            "enrolments": _l("the list of enrolments"),
            "todo": _l("the to-do list"),
        }
        if entity in lists:
            return str(lists[entity])
    if entity in ENTITY_LABELS:
        return entity_label(entity)
    return gettext("a record of kind “%(kind)s”", kind=isolate(entity))


# --- sentences, one per action ---------------------------------------------------------------

Sentence = Callable[[AuditEvent, Names], tuple[str, list[str]]]


def _row_fields(event_: AuditEvent) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in (event_.changes or {}).items() if k not in NOT_IN_SENTENCES]


def _change_details(event_: AuditEvent, names: Names, skip: Iterable[str] = ()) -> list[str]:
    skipped = set(skip)
    return [
        describe_change(event_.entity, k, v, names)
        for k, v in _row_fields(event_)
        if k not in skipped
    ]


def _created(event_: AuditEvent, names: Names) -> tuple[str, list[str]]:
    filled, details = [], []
    for key, value in _row_fields(event_):
        if isinstance(value, list) and len(value) == 2:
            if MASK in value:
                filled.append(key)
            elif not _is_empty(value[1]):
                details.append(
                    gettext(
                        "%(field)s: %(value)s",
                        field=_label(key),
                        value=format_value(event_.entity, key, value[1], names),
                    )
                )
        else:  # a line written by hand (a synthetic project's counts)
            details.append(_detail(event_.entity, key, value, names))
    if filled:
        details.append(
            gettext(
                "Also filled in (values not kept in the log): %(fields)s", fields=_fields(filled)
            )
        )
    if event_.entity == "participant":
        person = names.person(event_.entity_id)
        if person:
            return gettext("%(person)s registered", person=person), details
    return _upper_first(gettext("%(thing)s created", thing=thing(event_, names))), details


#: participant fields whose change says more than "changed"
_LIFE_EVENTS = ("erased_at", "merged_into_id", "archived_at")


def _updated(event_: AuditEvent, names: Names) -> tuple[str, list[str]]:
    changes = dict(_row_fields(event_))
    if event_.entity == "participant":
        person = names.person(event_.entity_id) or gettext("a participant")
        for key in _LIFE_EVENTS:
            if key in changes and isinstance(changes[key], list) and len(changes[key]) == 2:
                set_now = not _is_empty(changes[key][1])
                headline = {
                    ("erased_at", True): gettext("%(person)s's identity erased", person=person),
                    ("erased_at", False): gettext("%(person)s's erasure undone", person=person),
                    ("merged_into_id", True): gettext(
                        "%(person)s's record merged into record %(other)s",
                        person=person,
                        # two records of one person bear one name: their codes tell them apart
                        other=names.code(changes[key][1]) or gettext("a record since deleted"),
                    ),
                    ("merged_into_id", False): gettext(
                        "%(person)s's record separated again after a merge was undone",
                        person=person,
                    ),
                    ("archived_at", True): gettext("%(person)s's record archived", person=person),
                    ("archived_at", False): gettext(
                        "%(person)s's record taken out of the archive", person=person
                    ),
                }[(key, set_now)]
                return headline, _change_details(event_, names, skip=[key])
        if changes:
            masked = [k for k, v in changes.items() if isinstance(v, list) and MASK in v]
            headline = gettext(
                "%(person)s's %(fields)s changed", person=person, fields=_fields(changes)
            )
            return headline, _change_details(event_, names, skip=masked)
    moved = changes.get("participant_id")
    if list(changes) == ["participant_id"] and isinstance(moved, list) and len(moved) == 2:
        # a merge (or its undo) hands a row to another record of the same person: by code
        gone = gettext("a record since deleted")
        return gettext(
            "%(what)s moved from record %(old)s to record %(new)s",
            what=_upper_first(entity_label(event_.entity)),
            old=names.code(moved[0]) or gone,
            new=names.code(moved[1]) or gone,
        ), []
    return _upper_first(gettext("%(thing)s changed", thing=thing(event_, names))), _change_details(
        event_, names
    )


def _simple(message: Any) -> Sentence:
    """A sentence about what the line is about, with its detail in words."""

    def sentence(event_: AuditEvent, names: Names) -> tuple[str, list[str]]:
        return _upper_first(str(message) % {"thing": thing(event_, names)}), _details(event_, names)

    return sentence


def _about_user(message: Any, nobody: Any = None) -> Sentence:
    """A sentence about an account (a sign-in): its e-mail, or the actor's."""

    def sentence(event_: AuditEvent, names: Names) -> tuple[str, list[str]]:
        who = names.reference("user", event_.entity_id)
        if who is None:
            who = str(nobody) if nobody is not None else isolate(event_.actor_label)
        return str(message) % {"user": who}, _details(event_, names)

    return sentence


def _about_person(message: Any) -> Sentence:
    def sentence(event_: AuditEvent, names: Names) -> tuple[str, list[str]]:
        who = names.person(event_.entity_id) or gettext("a participant")
        return str(message) % {"person": who}, _details(event_, names)

    return sentence


def _about_database(message: Any) -> Sentence:
    def sentence(event_: AuditEvent, names: Names) -> tuple[str, list[str]]:
        return str(message), _details(event_, names)

    return sentence


def _details(event_: AuditEvent, names: Names) -> list[str]:
    return [
        _detail(event_.entity, k, v, names)
        for k, v in (event_.changes or {}).items()
        if k not in NOT_IN_SENTENCES and not (v is None or v == "")
    ]


def _detail(entity: str, key: str, value: Any, names: Names) -> str:
    """One key of a read's, an export's or an import's detail, in words."""
    label = _label(key)
    if key == "participant_ranges" and isinstance(value, list):
        # an export's people, as runs of ids: counted here, looked up by a person's copy
        return gettext(
            "%(field)s: %(value)s", field=label, value=format_decimal(ranges_size(value))
        )
    if key in ID_LISTS and isinstance(value, list):
        target = ID_LISTS[key]
        if target == "participant":
            codes = [c for c in (names.code(v) for v in value) if c]
            shown = codes[:MAX_CODES]
            text = ", ".join(shown) if shown else gettext("(none still on record)")
            if len(value) > len(shown):
                text += " " + gettext("and %(num)d more", num=len(value) - len(shown))
            return gettext("%(field)s: %(value)s", field=label, value=text)
        return gettext("%(field)s: %(value)s", field=label, value=format_decimal(len(value)))
    if key == "choices" and isinstance(value, dict):
        # a merge's choice of values, field by field: said record by record
        by_record: dict[str, list[str]] = defaultdict(list)
        for name, code in value.items():
            by_record[isolate(str(code))].append(_lower_first(_label(name)))
        return gettext(
            "%(field)s: %(value)s",
            field=label,
            value="; ".join(
                gettext("%(code)s for %(fields)s", code=code, fields=format_list(fields))
                for code, fields in by_record.items()
            ),
        )
    if key == "kind" and isinstance(value, list) and len(value) == 2 and value[0] is None:
        value = value[1]  # a job's line names its kind as a change from nothing
    return gettext(
        "%(field)s: %(value)s", field=label, value=format_value(entity, key, value, names)
    )


def _merge(message: Any) -> Sentence:
    def sentence(event_: AuditEvent, names: Names) -> tuple[str, list[str]]:
        who = names.person(event_.entity_id) or isolate(
            str((event_.changes or {}).get("survivor", ""))
        )
        details = [
            _detail(event_.entity, k, v, names)
            for k, v in (event_.changes or {}).items()
            if k not in NOT_IN_SENTENCES and k != "merge"
        ]
        return str(message) % {"person": who}, details

    return sentence


ACTION_SENTENCES: dict[str, Sentence] = {
    "create": _created,
    "update": _updated,
    "delete": _simple(_l("%(thing)s deleted")),
    "view": _simple(_l("%(thing)s opened")),
    "login": _about_user(_l("%(user)s signed in")),
    "login_failed": _about_user(
        _l("Refused sign-in for %(user)s"), nobody=_l("an e-mail address with no account")
    ),
    "login_throttled": _about_user(
        _l("Sign-in paused after too many attempts (%(user)s)"), nobody=_l("unknown account")
    ),
    "work_throttled": _about_user(
        _l("Exports, imports or reports paused after too many requests (%(user)s)")
    ),
    "session_expired": _about_user(_l("%(user)s's session expired")),
    "logout": _about_user(_l("%(user)s signed out")),
    "report": _simple(_l("Donor report generated for %(thing)s")),
    "export": _simple(_l("%(thing)s exported")),
    "import": _simple(_l("%(thing)s imported from a file")),
    "erase": _about_person(_l("%(person)s's identity erased")),
    "subject_access": _about_person(_l("Copy of everything held on %(person)s made for her")),
    "backup": _about_database(_l("Database backed up")),
    "restore": _about_database(_l("Database restored from a backup")),
    "merge": _merge(_l("Duplicates merged into %(person)s's record")),
    "unmerge": _merge(_l("Merge into %(person)s's record undone")),
    "rebuild_indicators": _simple(_l("Indicator figures rebuilt for %(thing)s")),
    "cancel": _simple(_l("%(thing)s cancelled")),
    "discard": _simple(_l("%(thing)s discarded")),
    "prune": _about_database(_l("Oldest audit lines deleted behind a signed checkpoint")),
    "second_factor_enrolled": _about_user(_l("%(user)s set up two-step sign-in")),
    "second_factor_reset": _about_user(_l("Two-step sign-in of %(user)s reset")),
    "second_factor_failed": _about_user(_l("Wrong sign-in code for %(user)s")),
    "recovery_code_used": _about_user(_l("%(user)s signed in with a recovery code")),
}


def _unknown(event_: AuditEvent, names: Names) -> tuple[str, list[str]]:
    return gettext(
        "%(action)s: %(thing)s",
        action=_upper_first(action_label(event_.action)),
        thing=thing(event_, names),
    ), _details(event_, names)


def describe(events: Sequence[AuditEvent], reader: User, names: Names | None = None) -> list[Line]:
    """Return ``events`` in words for ``reader``, with the records they are about named.

    ``names``: the records' names, read beforehand (``Names(events, reader)``); after
    the call its ``named`` holds the people whose names the sentences show.
    """
    names = names if names is not None else Names(events, reader)
    lines = []
    for event_ in events:
        sentence, details = ACTION_SENTENCES.get(event_.action, _unknown)(event_, names)
        lines.append(
            Line(
                event=event_,
                sentence=sentence,
                details=details,
                is_read=event_.action in READ_ACTIONS,
                participant_id=names.participant_of(event_),
            )
        )
    return lines


def exact_changes(event_: AuditEvent) -> list[tuple[str, str]]:
    """Return the stored line field by field, exactly, for the audit ("phone": "*** → ***").

    Nothing is translated or resolved: names of fields and values are those stored;
    an empty value is written "(empty)" and a masked one "(masked)".
    """

    def show(value: Any) -> str:
        if value is None:
            return gettext("(empty)")
        if value == MASK:
            return gettext("(masked)")
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return "[" + ", ".join(show(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
        if value == "":
            return '""'
        return str(value)

    rows = []
    for key, value in (event_.changes or {}).items():
        if isinstance(value, list) and len(value) == 2 and event_.action in ("create", "update"):
            rows.append((key, f"{show(value[0])} → {show(value[1])}"))
        else:
            rows.append((key, show(value)))
    return rows


def known_actions() -> frozenset[str]:
    """Every action with a sentence of its own."""
    return frozenset(ACTION_SENTENCES)
