"""A dashboard computed once is handed out again only while no record has changed."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from tracker import audit, indicators, synthetic
from tracker.dashboard import cache, services
from tracker.extensions import db
from tracker.models import Project, Role


@pytest.fixture(autouse=True)
def forget():
    cache.clear_cache()
    yield
    cache.clear_cache()


@pytest.fixture
def pilot(seeded):
    return indicators.Scope((seeded.id,), seeded.start_date, seeded.end_date)


def registered_on_page(page: str) -> int:
    match = re.search(r'indicator=registered">([\d\s\u202f]+)</a>', html.unescape(page))
    return int(re.sub(r"\s", "", match.group(1)))


def test_kept_while_nothing_changes(seeded, pilot):
    first = cache.cached_build(pilot, [seeded])
    assert cache.cached_build(pilot, [seeded]) is first
    # reads and sign-ins change no figure
    audit.record(db.session, "view", "participant", 1)
    audit.record(db.session, "login", "user", None)
    db.session.commit()
    assert cache.cached_build(pilot, [seeded]) is first
    # another period, grain or language is another dashboard
    other = indicators.Scope((seeded.id,), seeded.start_date, date(2015, 12, 31))
    assert cache.cached_build(other, [seeded]) is not first
    assert cache.cached_build(pilot, [seeded], "month") is not first


def test_computed_again_after_any_change(seeded, pilot, make_participant):
    first = cache.cached_build(pilot, [seeded])
    registered = first.cards[0].value
    make_participant(seeded, registered_on=date(2015, 3, 1))
    db.session.commit()
    again = cache.cached_build(pilot, [seeded])
    assert again is not first
    assert again.cards[0].value == registered + 1
    assert again == services.build(pilot, [seeded])


def test_change_not_yet_committed_counts_too(seeded, pilot, make_participant):
    # the audit line is flushed with the record: a session that changed data sees it
    first = cache.cached_build(pilot, [seeded])
    make_participant(seeded, registered_on=date(2015, 3, 1))
    assert cache.cached_build(pilot, [seeded]).cards[0].value == first.cards[0].value + 1
    db.session.rollback()


def _kept_entry():
    (kept,) = cache._kept.values()
    return kept


def test_an_audit_log_that_went_back_is_another_database(seeded, pilot):
    # as after a restore from a backup: the ids seen are beyond the log's last line
    first = cache.cached_build(pilot, [seeded])
    _kept_entry().checked_id += 5
    assert cache.cached_build(pilot, [seeded]) is not first


def test_the_same_id_written_at_another_time_is_another_database(seeded, pilot):
    first = cache.cached_build(pilot, [seeded])
    kept = _kept_entry()
    kept.checked_at = kept.checked_at.replace(year=2000)
    assert cache.cached_build(pilot, [seeded]) is not first


def test_the_page_never_shows_stale_figures(client, signin, make_user, seeded, make_participant):
    manager = make_user(Role.MANAGER, [seeded], email="manager@example.org")
    signin(manager)
    before = registered_on_page(client.get("/dashboard/").text)
    assert registered_on_page(client.get("/dashboard/").text) == before
    make_participant(seeded, registered_on=date(2015, 3, 1))
    db.session.commit()
    assert registered_on_page(client.get("/dashboard/").text) == before + 1


def test_people_breakdowns_in_one_query_equal_one_query_each(app):
    synthetic.generate(400, 3)
    project = db.session.scalar(select(Project).where(Project.code == synthetic.CODE))
    for scope in (
        indicators.Scope((project.id,), project.start_date, project.end_date),
        indicators.Scope((project.id,), date(2021, 1, 1), date(2022, 6, 30), region="Fès-Meknès"),
    ):
        for key in ("registered", "trained", "placed", "retained_6m"):
            together = indicators.disaggregate_people(key, indicators.PERSON_DIMENSIONS, scope)
            for dimension in indicators.PERSON_DIMENSIONS:
                assert together[dimension] == indicators.disaggregate(key, dimension, scope)
                assert sum(n for _c, n in together[dimension]) == indicators.count(key, scope)
    with pytest.raises(ValueError, match="not a characteristic"):
        indicators.disaggregate_people("trained", ["sector"], scope)
    db.session.rollback()


def test_filter_choices_follow_the_records(seeded, make_participant):
    providers, regions = cache.cached_filter_choices([seeded.id])
    assert providers and "Rabat-Salé-Kénitra" in regions
    assert cache.cached_filter_choices([seeded.id]) == (providers, regions)
    make_participant(seeded, registered_on=date(2015, 3, 1), region="Drâa-Tafilalet")
    db.session.commit()
    assert "Drâa-Tafilalet" in cache.cached_filter_choices([seeded.id])[1]
