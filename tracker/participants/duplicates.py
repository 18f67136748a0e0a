"""The one duplicate rule: when two records may be the same person, and why, in words.

Two records are likely duplicates when

* they hold the same phone number (its last 9 digits), or
* their names are alike (85 % or more after folding accents, case and common
  transliterations) and they share the birth date, or the phonetic key of the name
  and the nationality.

A name in Arabic script is compared with a Latin one by its transliteration
(``tracker.text``): "محمد" and "Mohamed" are alike, and the reason says the two
were written in different scripts. A person's name in the other script
(``other_name``), when recorded, is compared too: the best pair counts.

Every place that suggests a duplicate uses this module: the registration and edit
forms (``likely_duplicates``: one person against the register, by SQL), the importer
(``Index``: each row against the register and the rows above it), the data-quality
panel and ``flask duplicates list`` (``pairs``: every pair of the register), and the
merge. The SQL form (``blocks``) selects the candidates that can pass the rule; the
Python form (``match``) decides and says why. So the same data gives the same pairs
with the same words wherever they are shown.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Protocol

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, or_, select

from tracker.extensions import db
from tracker.models import Participant
from tracker.text import is_arabic, name_key, name_similarity, phone_key

#: names at least this alike (0..1) count as the same name
THRESHOLD = 0.85


class Person(Protocol):
    """What the rule compares: a Participant, a row of a file, a ``Known``."""

    given_name: str
    family_name: str
    date_of_birth: date | None
    nationality: str | None
    phone: str | None


@dataclass(frozen=True)
class Known:
    """The fields of a person the rule compares, without loading a whole record.

    ``label`` names the person in a warning (a code, or "row 12" of a file).
    """

    id: int | None
    label: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    nationality: str | None
    phone: str | None
    name_key: str = ""
    phone_key: str = ""
    other_name: str = ""

    @classmethod
    def of(cls, values: dict[str, Any] | Any, label: str = "", id: int | None = None) -> Known:
        """Return the comparable fields of a record or of a dict of values."""
        get = values.get if isinstance(values, dict) else lambda k: getattr(values, k, None)
        birth = get("date_of_birth")
        given, family = get("given_name") or "", get("family_name") or ""
        return cls(
            id=id if id is not None else get("id"),
            label=label or get("code") or "",
            given_name=given,
            family_name=family,
            date_of_birth=birth if isinstance(birth, date) else None,
            nationality=(get("nationality") or "").upper() or None,
            phone=get("phone"),
            name_key=name_key(f"{given} {family}"),
            phone_key=phone_key(get("phone")),
            other_name=get("other_name") or "",
        )

    @cached_property
    def full_name(self) -> str:
        """The name the rule compares: given and family names, as typed."""
        return f"{self.given_name} {self.family_name}"

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The full name, and the name in the other script when there is one."""
        return (self.full_name, self.other_name) if self.other_name else (self.full_name,)


@dataclass(frozen=True)
class Match:
    score: float  # name similarity, 0..1
    reasons: list[str]

    @property
    def why(self) -> str:
        return ", ".join(self.reasons)


def reason_words() -> dict[str, str]:
    """Return the words of the reasons in the current language (translated once per check)."""
    return {
        # without variables gettext returns the template itself, "%%" included
        "name": _("name %(pct)d %%"),
        "script": _("name %(pct)d %% (Arabic and Latin letters)"),
        "birth": _("same birth date"),
        "country": _("same nationality"),
        "phone": _("same phone number"),
    }


def match(a: Known, b: Known, words: dict[str, str] | None = None) -> Match | None:
    """Say whether ``a`` and ``b`` may be the same person, and why; None when not.

    Symmetric: ``match(a, b)`` and ``match(b, a)`` give the same score and reasons.
    """
    return _match(a, b, words, _similarity_to(a))


#: the best ``name_similarity`` of one person's names with other names, at least a
#: bound, and whether that best pair was written in two scripts (Arabic and Latin)
Similarity = Callable[[tuple[str, ...], float], tuple[float, bool]]


def _similarity_to(person: Known) -> Similarity:
    """Return the best ``name_similarity`` of the person's names with other names.

    Each pair is computed once: names repeat (a block of the same name key is mostly
    one spelling), so a person compared with many others meets the same names again.
    """
    names = person.names
    known: dict[tuple[str, float], tuple[float, bool]] = {}

    def one(other: str, at_least: float) -> tuple[float, bool]:
        key = (other, at_least)
        found = known.get(key)
        if found is None:
            found = known[key] = max(
                (
                    (name_similarity(name, other, at_least), is_arabic(name) != is_arabic(other))
                    for name in names
                ),
                key=_same_script_first,
            )
        return found

    def similarity(others: tuple[str, ...], at_least: float) -> tuple[float, bool]:
        return max((one(other, at_least) for other in others), key=_same_script_first)

    return similarity


def _same_script_first(found: tuple[float, bool]) -> tuple[float, bool]:
    """The better score; at the same score, a pair in one script over a pair across two."""
    return found[0], not found[1]


def _match(a: Known, b: Known, words: dict[str, str] | None, similar: Similarity) -> Match | None:
    """The rule of ``match``, with ``similar`` the similarity to ``a``'s name."""
    same_phone = bool(a.phone_key) and a.phone_key == b.phone_key
    same_birth = a.date_of_birth is not None and a.date_of_birth == b.date_of_birth
    same_country = bool(a.nationality) and a.nationality == b.nationality
    same_key = same_country and bool(a.name_key) and a.name_key == b.name_key
    if not (same_phone or same_birth or same_key):
        return None
    # below the threshold the name counts only beside the same phone, for the order
    at_least = 0.0 if same_phone else THRESHOLD
    score, across = similar(b.names, at_least)
    if not (same_phone or score >= THRESHOLD):
        return None
    words = words or reason_words()
    reasons = []
    if score >= THRESHOLD:
        reasons.append(words["script" if across else "name"] % {"pct": round(score * 100)})
    if same_birth:
        reasons.append(words["birth"])
    if same_country:
        reasons.append(words["country"])
    if same_phone:
        reasons.append(words["phone"])
    return Match(score, reasons)


def _order(found: tuple[Any, Match]) -> tuple[int, float]:
    return -len(found[1].reasons), -found[1].score


# --- The SQL form: candidates of one person ---------------------------------------------------


def blocks(person: Known, table: Any = Participant) -> list[ColumnElement[bool]]:
    """Return the SQL conditions selecting the records that may match ``person``.

    One indexed lookup each (birth date, phone key, name key): ``match`` then decides.
    """
    conditions = []
    if person.date_of_birth is not None:
        conditions.append(table.date_of_birth == person.date_of_birth)
    if person.phone_key:
        conditions.append(table.phone_key == person.phone_key)
    if person.name_key and person.nationality:
        conditions.append(
            and_(table.name_key == person.name_key, table.nationality == person.nationality)
        )
    return conditions


def live() -> ColumnElement[bool]:
    """The records a duplicate may be: not erased, not already merged into another."""
    return and_(Participant.erased_at.is_(None), Participant.merged_into_id.is_(None))


@dataclass(frozen=True)
class Candidate:
    participant: Participant
    score: float
    reasons: list[str]


def likely_duplicates(
    person: Known,
    *,
    exclude_id: int | None = None,
    project_ids: Sequence[int] | None = None,
    limit: int = 5,
) -> list[Candidate]:
    """Return the records of the register that may be ``person``, best first."""
    conditions = blocks(person)
    if not conditions:
        return []
    query = select(Participant).where(or_(*conditions), live())
    if exclude_id is not None:
        query = query.where(Participant.id != exclude_id)
    if project_ids is not None:
        query = query.where(Participant.project_id.in_(project_ids))
    words = reason_words()
    similar = _similarity_to(person)
    found = []
    for other in db.session.scalars(query.order_by(Participant.id)):
        result = _match(person, Known.of(other), words, similar)
        if result is not None:
            found.append((other, result))
    found.sort(key=_order)
    return [Candidate(p, m.score, m.reasons) for p, m in found[:limit]]


# --- The bulk form: many people at once, in memory --------------------------------------------


class Index:
    """People grouped by the rule's blocks, so that each newcomer meets only a handful.

    The blocks are those of ``blocks``: the same birth date, the same phone key, the
    same name key with the same nationality.
    """

    def __init__(self) -> None:
        self._blocks: dict[tuple, list[Known]] = defaultdict(list)

    @staticmethod
    def _keys(person: Known) -> list[tuple]:
        keys: list[tuple] = []
        if person.date_of_birth is not None:
            keys.append(("birth", person.date_of_birth))
        if person.phone_key:
            keys.append(("phone", person.phone_key))
        if person.name_key and person.nationality:
            keys.append(("name", person.name_key, person.nationality))
        return keys

    def add(self, person: Known) -> None:
        for key in self._keys(person):
            self._blocks[key].append(person)

    def candidates(self, person: Known) -> Iterator[Known]:
        """Yield each person of the index who shares a block with ``person``, once."""
        seen: set[int] = set()
        for key in self._keys(person):
            for other in self._blocks.get(key, ()):
                if id(other) in seen or other is person:
                    continue
                seen.add(id(other))
                yield other

    def matches(
        self, person: Known, words: dict[str, str], limit: int | None = None
    ) -> list[tuple[Known, Match]]:
        """Return the people of the index that may be ``person``, best first."""
        similar = _similarity_to(person)
        found = []
        for other in self.candidates(person):
            result = _match(person, other, words, similar)
            if result is not None:
                found.append((other, result))
        found.sort(key=_order)
        return found if limit is None else found[:limit]


def register(project_ids: Sequence[int] | None = None) -> Iterator[Known]:
    """Yield the comparable fields of every live record of ``project_ids`` (all when None)."""
    query = select(
        Participant.id,
        Participant.code,
        Participant.given_name,
        Participant.family_name,
        Participant.date_of_birth,
        Participant.nationality,
        Participant.phone,
        Participant.name_key,
        Participant.phone_key,
        Participant.other_name,
    ).where(live())
    if project_ids is not None:
        query = query.where(Participant.project_id.in_(project_ids))
    for row in db.session.execute(query.order_by(Participant.id)):
        yield Known(
            id=row.id,
            label=row.code,
            given_name=row.given_name,
            family_name=row.family_name,
            date_of_birth=row.date_of_birth,
            nationality=row.nationality,
            phone=row.phone,
            name_key=row.name_key,
            phone_key=row.phone_key,
            other_name=row.other_name or "",
        )


@dataclass(frozen=True)
class Pair:
    first: Known
    second: Known
    match: Match


def pairs(people: Iterable[Known], min_score: float = 0.0) -> list[Pair]:
    """Return every pair of ``people`` the rule calls likely duplicates, best first.

    Each pair once, the record with the smaller id first.
    """
    index = Index()
    words = reason_words()
    found = []
    # A register of 100,000 gives hundreds of thousands of pairs: the cyclic garbage
    # collector would walk all of them again and again while they pile up (half the
    # time), though none is in a cycle. It is paused meanwhile, unless already paused.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for person in people:
            similar = _similarity_to(person)
            for other in index.candidates(person):
                result = _match(person, other, words, similar)
                if result is not None and result.score >= min_score:
                    found.append(Pair(other, person, result))
            index.add(person)
        # by more reasons, then the higher score, then the first's label: three stable
        # sorts on one plain key each (the fast comparisons), as one on the three
        found.sort(key=lambda p: p.first.label)
        found.sort(key=lambda p: -p.match.score)
        found.sort(key=lambda p: -len(p.match.reasons))
    finally:
        if collecting:
            gc.enable()
    return found
