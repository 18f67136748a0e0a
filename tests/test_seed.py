"""The reference programme reproduces the IOM Morocco pilot's published figures."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import func, select

from tracker import indicators, seed
from tracker.extensions import db
from tracker.models import Activity, ActivityKind, Participant, Sex


@pytest.fixture
def pilot(seeded):
    return indicators.Scope((seeded.id,), seeded.start_date, seeded.end_date)


def test_published_figures(seeded, pilot):
    assert (seeded.start_date.isoformat(), seeded.end_date.isoformat()) == (
        "2014-06-01",
        "2016-12-31",
    )
    assert indicators.count("trained", pilot) == 135
    assert indicators.count("placed", pilot) == 41
    assert indicators.count("institutions_strengthened", pilot) == 11
    assert indicators.count("awareness_partners", pilot) == 4


def test_all_trained_are_women(pilot, seeded):
    assert indicators.disaggregate("trained", "sex", pilot) == [(Sex.FEMALE.value, 135)]


def test_placed_split_between_employment_and_iga(pilot, seeded):
    kinds = indicators.placed_by_kind(pilot)
    assert kinds == {"employment": 17, "iga": 23, "both": 1}
    assert sum(kinds.values()) == 41
    assert indicators.trained_and_placed(pilot) == 41


def test_awareness_partners_are_the_four_named(pilot, seeded):
    from tracker.models import Partner

    ids = db.session.scalars(indicators.subject_ids("awareness_partners", pilot))
    names = {db.session.get(Partner, i).acronym or db.session.get(Partner, i).name for i in ids}
    assert names == {"OFPPT", "Entraide Nationale", "ODCO", "ANAPEC"}


def test_what_real_data_has(seeded, pilot):
    # drop-outs are registered and enrolled but not trained
    enrolled = indicators.count("enrolled", pilot)
    assert enrolled > 135
    # varied nationalities, ages and regions
    assert len(indicators.disaggregate("trained", "nationality", pilot)) >= 6
    assert len(indicators.disaggregate("trained", "age_group", pilot)) >= 4
    assert len(indicators.disaggregate("trained", "region", pilot)) >= 4
    # follow-ups give a retention figure, below the placed figure
    assert 0 < indicators.count("retained_6m", pilot) < 41


def test_closing_workshop_is_an_event_outside_the_period(seeded):
    closing = db.session.scalar(select(Activity).where(Activity.held_on == date(2017, 2, 21)))
    assert closing.kind is ActivityKind.EVENT
    assert closing.held_on > seeded.end_date
    assert len(closing.attendances) == 9


def test_seeding_twice_changes_nothing(seeded, runner):
    people = db.session.scalar(select(func.count(Participant.id)))
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0
    assert "nothing changed" in result.output
    assert db.session.scalar(select(func.count(Participant.id))) == people


def test_seed_command_loads_everything(runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "participants 154" in result.output


def test_a_bad_seed_row_names_file_and_row_and_writes_nothing(runner, tmp_path):
    broken = tmp_path / "seed"
    shutil.copytree(seed.SEED_DIR, broken)
    lines = (broken / "enrolments.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("IDF-MA-2014-", "NOBODY-", 1)
    (broken / "enrolments.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["seed", "--from-dir", str(broken)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: enrolments.csv, row 4: ")
    assert "unknown participant NOBODY-" in result.output
    assert db.session.scalar(select(func.count(Participant.id))) == 0
