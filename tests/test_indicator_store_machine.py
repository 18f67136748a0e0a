"""Random sequences of writes, and after each one every figure of the store equals the live one.

A Hypothesis state machine registers people, edits their characteristics, enrols
them, completes and drops out, places them, records 6-month follow-ups, erases,
merges and undoes merges, and imports small files, each through the services the
web, the CLI and the importer use, each committed. After every step the store's
headline, every breakdown and the trends equal ``tracker/indicators.py`` computed
live, over the whole project, its period, each year, a quarter, a month and a
region; ``indicators verify`` finds nothing; and the drill-down of each figure
lists exactly as many people as the figure.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from itertools import count

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from tests.indicator_store_checks import assert_store_equals_live, assert_verified
from tracker import indicators
from tracker.dashboard import services as dashboard
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.imports import reader
from tracker.imports import services as imports
from tracker.imports.report import Context
from tracker.indicator_store import reading
from tracker.indicator_store.facts import STORED
from tracker.models import (
    CourseKind,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Partner,
    PartnerKind,
    Placement,
    PlacementKind,
    Project,
    Sex,
)
from tracker.participants import merging
from tracker.participants.services import erase, register_participant, update_participant
from tracker.placements.services import record_follow_up, record_placement
from tracker.trainings.services import complete, create_course, drop_out, enrol

START, END = date(2014, 11, 1), date(2016, 3, 31)
TODAY = date(2016, 12, 31)
REGIONS = (None, "Rabat", "Oriental")
NATIONALITIES = (None, "SEN", "CIV")
days = st.integers(min_value=0, max_value=(END - START).days).map(
    lambda n: START + timedelta(days=n)
)
_projects = count(1)


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        number = next(_projects)
        self.project = Project(
            code=f"M{number}", title="Machine", country="MAR", start_date=START, end_date=END
        )
        db.session.add(self.project)
        provider = Partner(name=f"Centre {number}", kind=PartnerKind.TRAINING_PROVIDER)
        other = Partner(name=f"Institut {number}", kind=PartnerKind.TRAINING_PROVIDER)
        db.session.add_all([provider, other])
        db.session.flush()
        self.courses = [
            create_course(
                self.project,
                p,
                title=f"{sector} {start}",
                sector=sector,
                kind=CourseKind.VOCATIONAL,
                start_date=start,
                end_date=start + timedelta(days=60),
            )  # fmt: skip
            for p, sector, start in (
                (provider, "Cuisine", date(2014, 12, 1)),
                (other, "Couture", date(2015, 3, 20)),
                (provider, "Cuisine", date(2015, 9, 1)),
            )
        ]
        self.people: list[int] = []
        self.merges: list[int] = []
        self.imported = count(1)
        db.session.commit()

    # --- helpers ----------------------------------------------------------------------------

    def person(self, index: int) -> Participant:
        return db.session.get(Participant, self.people[index % len(self.people)])

    def attempt(self, change, name: str) -> None:
        """Run one write and commit it; a refused one (a business rule) leaves nothing."""
        try:
            change()
            db.session.commit()
            event(f"{name}: written")
        except DomainError as error:
            db.session.rollback()
            event(f"{name}: refused ({error.message})")

    # --- writes -----------------------------------------------------------------------------

    @rule(
        sex=st.sampled_from([Sex.FEMALE, Sex.MALE]),
        registered_on=days,
        born=st.one_of(st.none(), st.integers(1960, 2000)),
        exact=st.booleans(),
        nationality=st.sampled_from(NATIONALITIES),
        region=st.sampled_from(REGIONS),
    )
    def register(self, sex, registered_on, born, exact, nationality, region):
        def change():
            person = register_participant(
                self.project, given_name="Awa", family_name=f"Test{len(self.people)}", sex=sex,
                registered_on=registered_on, consent_on=registered_on,
                date_of_birth=date(born, 6, 15) if born and exact else None,
                birth_year=born if born and not exact else None,
                nationality=nationality, region=region, today=TODAY,
            )  # fmt: skip
            self.people.append(person.id)

        self.attempt(change, "register")

    @rule(
        index=st.integers(0, 50),
        field=st.sampled_from(["sex", "region", "nationality", "date_of_birth"]),
        choice=st.integers(0, 2),
    )
    def edit(self, index, field, choice):
        if not self.people:
            return
        value = {
            "sex": [Sex.FEMALE, Sex.MALE, Sex.FEMALE][choice],
            "region": REGIONS[choice],
            "nationality": NATIONALITIES[choice],
            "date_of_birth": [date(1999, 1, 1), date(1970, 12, 31), None][choice],
        }[field]
        self.attempt(lambda: update_participant(self.person(index), **{field: value}), "edit")

    @rule(index=st.integers(0, 50), course=st.integers(0, 2), later=st.integers(0, 20))
    def enrol(self, index, course, later):
        if not self.people:
            return
        chosen = self.courses[course]
        on = chosen.start_date + timedelta(days=later)
        self.attempt(lambda: enrol(self.person(index), chosen, on=on), "enrol")

    @rule(index=st.integers(0, 50), after=st.integers(0, 200), completed=st.booleans())
    def close(self, index, after, completed):
        if not self.people:
            return
        enrolment = db.session.scalar(
            select(Enrolment).where(
                Enrolment.participant_id == self.person(index).id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
            )
        )
        if enrolment is None:
            return
        on = enrolment.course.start_date + timedelta(days=after)
        self.attempt(
            lambda: complete(enrolment, on=on) if completed else drop_out(enrolment, on=on),
            "close",
        )

    @rule(
        index=st.integers(0, 50),
        kind=st.sampled_from(list(PlacementKind)),
        sector=st.sampled_from(["Hôtellerie", "Couture"]),
        start=days,
    )
    def place(self, index, kind, sector, start):
        if not self.people:
            return
        self.attempt(
            lambda: record_placement(
                self.person(index),
                kind=kind,
                sector=sector,
                start_date=start,
                business_name="Atelier",
                today=TODAY,
            ),
            "place",
        )

    @rule(index=st.integers(0, 50), active=st.booleans())
    def follow_up(self, index, active):
        if not self.people:
            return
        placement = db.session.scalar(
            select(Placement).where(Placement.participant_id == self.person(index).id).limit(1)
        )
        if placement is None or any(f.months_after == 6 for f in placement.follow_ups):
            return
        self.attempt(
            lambda: record_follow_up(
                placement,
                months_after=6,
                still_active=active,
                today=TODAY,
                followed_on=placement.start_date + timedelta(days=185),
            ),
            "follow-up",
        )

    @rule(index=st.integers(0, 50))
    def erase(self, index):
        # rarer than the other writes: an erased record takes no further change
        if self.people and index % 4 == 0:
            self.attempt(lambda: erase(self.person(index)), "erase")

    @rule(first=st.integers(0, 50), second=st.integers(0, 50))
    def merge(self, first, second):
        if len(self.people) < 2:
            return
        survivor, other = self.person(first), self.person(second)
        if survivor.id == other.id:
            return

        def change():
            conflicts = merging.compare(survivor, [other]).conflicts
            keep = {c.course.id: c.enrolments[0].id for c in conflicts}
            kept = merging.merge(survivor, [other], keep=keep)
            self.merges.append(kept.id)

        self.attempt(change, "merge")

    @rule()
    def undo_merge(self):
        if self.merges:
            from tracker.models import ParticipantMerge

            kept = db.session.get(ParticipantMerge, self.merges.pop())
            self.attempt(lambda: merging.undo(kept), "undo merge")

    @rule(rows=st.integers(1, 3), registered_on=days, region=st.sampled_from(REGIONS))
    def import_file(self, rows, registered_on, region):
        header = (
            "given_name;family_name;sex;birth_year;nationality;region;"
            "consent_given;consent_date;registered_on"
        )
        lines = [
            f"Import;Row{next(self.imported)};F;1985;SEN;{region or ''};yes;"
            f"{registered_on};{registered_on}"
            for _ in range(rows)
        ]
        data = ("\n".join([header, *lines]) + "\n").encode()
        with force_locale("en"):
            sheet = reader.read(data, max_rows=100)
            ctx = Context(user=None, default_project=self.project, today=TODAY)
            report = imports.run(
                "participants", sheet, filename="m.csv", digest=imports.sha256(data), ctx=ctx
            )
        db.session.commit()
        assert not report.errors, report.errors
        self.people.extend(
            db.session.scalars(
                select(Participant.id).where(
                    Participant.project_id == self.project.id, Participant.id.not_in(self.people)
                )
            )
        )

    # --- after every step -------------------------------------------------------------------

    @invariant()
    def store_equals_live(self):
        pid = (self.project.id,)
        for scope in (
            indicators.Scope(pid),
            indicators.Scope(pid, START, END),
            indicators.Scope(pid, date(2015, 1, 1), date(2015, 12, 31)),
            indicators.Scope(pid, date(2015, 4, 1), date(2015, 6, 30)),
            indicators.Scope(pid, START, END, region="Rabat"),
        ):
            if isinstance(reading.figures_for(scope), reading.Stored):
                assert_store_equals_live(scope)
        # the project's whole period is always a standard window: never live
        assert reading.figures_for(indicators.Scope(pid, START, END)).source == reading.STORE

    def teardown(self):
        assert_verified(self.project)
        scope = indicators.Scope((self.project.id,), START, END)
        figures = reading.figures_for(scope).headline()
        for key in STORED:
            people = dashboard.drill_down_people(key, scope, None, None).subquery()
            listed = db.session.scalar(select(func.count()).select_from(people))
            assert listed == figures[key], key


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_random_writes_keep_the_store_equal_to_the_live_figures(app):
    run_state_machine_as_test(
        StoreMachine,
        settings=settings(
            max_examples=int(os.environ.get("STORE_MACHINE_EXAMPLES", 12)),
            stateful_step_count=14,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
