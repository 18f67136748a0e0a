"""Merging duplicate records into a survivor, and undoing the merge exactly."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tracker import indicators
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Base,
    Enrolment,
    Participant,
    ParticipantMerge,
    PlacementKind,
    Role,
    TrainingCourse,
)
from tracker.participants import merging, services
from tracker.participants.consent import withdraw_consent
from tracker.placements.services import record_follow_up, record_placement
from tracker.trainings.services import complete, drop_out, enrol


@pytest.fixture(autouse=True)
def english(app):
    """The services' messages in English, whose words do not depend on the catalogue."""
    with force_locale("en"):
        yield


#: tables an undo leaves exactly as they were (the logs of what happened aside)
LOGS = {"audit_event", "participant_merge"}


def dump() -> dict[str, list[tuple]]:
    """Every row of every table but the logs, every column, in id order."""
    db.session.flush()
    tables = {}
    for table in Base.metadata.sorted_tables:
        if table.name in LOGS:
            continue
        order = [c for c in table.primary_key.columns]
        tables[table.name] = [
            tuple(row) for row in db.session.execute(table.select().order_by(*order))
        ]
    return tables


def figures(project) -> dict[str, object]:
    return indicators.headline(indicators.Scope((project.id,)))


@pytest.fixture
def twins(project, make_participant, make_course):
    """One woman registered twice, with what each record holds (counted by hand below).

    Aminata (older record): completed course A, enrolled in course B (still open).
    Aminata bis (newer record, a phone added): completed course B, placed in a job with
    a 6-month follow-up still active, and a second consent.
    Awa: another person, trained in course A.
    """
    a, b = make_course(project, title="Course A"), make_course(project, title="Course B")
    first = make_participant(
        project,
        given_name="Aminata",
        family_name="Traoré",
        date_of_birth=date(1990, 3, 12),
        nationality="MLI",
        registered_on=date(2015, 1, 10),
    )
    second = make_participant(
        project,
        given_name="Aminata",
        family_name="Traore",
        date_of_birth=date(1990, 3, 12),
        nationality="MLI",
        phone="+212 612 34 56 78",
        registered_on=date(2015, 3, 2),
    )
    other = make_participant(project, given_name="Awa", family_name="Diop", nationality="SEN")
    complete(enrol(first, a, on=date(2015, 2, 1)), on=date(2015, 5, 31))
    enrol(first, b, on=date(2015, 2, 1))
    complete(enrol(second, b, on=date(2015, 3, 3)), on=date(2015, 5, 30), attendance_pct=90)
    complete(enrol(other, a, on=date(2015, 2, 1)), on=date(2015, 5, 31))
    job = record_placement(
        second, kind=PlacementKind.EMPLOYMENT, sector="Cuisine", start_date=date(2015, 7, 1),
        business_name="Restaurant",
    )  # fmt: skip
    record_follow_up(job, months_after=6, followed_on=date(2016, 1, 5), still_active=True)
    db.session.commit()
    return first, second, other, a, b


def test_a_person_counted_twice_counts_once_after_the_merge_and_twice_after_undo(project, twins):
    first, second, _other, _a, course_b = twins
    before = figures(project)
    # counted by hand: 3 records, 3 trained (first, second, other), 1 placed (second)
    assert (before["registered"], before["trained"], before["placed"]) == (3, 3, 1)
    assert (before["retained_6m"], before["placement_rate"]) == (1, 1 / 3)
    kept = merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id})
    db.session.commit()
    after = figures(project)
    # one woman now: trained once, placed once, and placed among the 2 trained
    assert (after["registered"], after["trained"], after["placed"]) == (2, 2, 1)
    assert (after["retained_6m"], after["placement_rate"]) == (1, 1 / 2)
    merging.undo(kept)
    db.session.commit()
    assert figures(project) == before


def test_undo_restores_every_column_of_every_table(project, twins):
    first, second, _other, _a, course_b = twins
    before = dump()
    # the survivor's own enrolment in course B is not the one kept: they swap records
    kept = merging.merge(
        first,
        [second],
        choices={"given_name": second.id, "registered_on": second.id},
        keep={course_b.id: second.enrolments[0].id},
    )
    db.session.commit()
    assert dump() != before
    merging.undo(kept)
    db.session.commit()
    assert dump() == before


def test_rows_move_to_the_survivor_and_the_other_record_is_kept_as_merged(project, twins):
    first, second, _other, course_a, course_b = twins
    kept_enrolment = second.enrolments[0].id
    first_b = next(e.id for e in first.enrolments if e.course_id == course_b.id)
    merging.merge(first, [second], keep={course_b.id: kept_enrolment})
    db.session.commit()
    survivor, merged = db.session.get(Participant, first.id), db.session.get(Participant, second.id)
    assert merged.merged_into_id == survivor.id
    assert {e.id for e in survivor.enrolments} == {
        next(e.id for e in survivor.enrolments if e.course_id == course_a.id),
        kept_enrolment,
    }
    # the enrolment not chosen stays, with the merged record: nothing is deleted
    assert [e.id for e in merged.enrolments] == [first_b]
    assert [p.sector for p in survivor.placements] == ["Cuisine"]
    assert len(survivor.consents) == 2 and merged.consents == []
    # default choices: the most recent value filled in; the earliest registration
    assert survivor.phone == "+212 612 34 56 78"
    assert survivor.family_name == "Traore"
    assert survivor.registered_on == date(2015, 1, 10)


def test_the_merge_is_audited_with_who_which_records_and_which_choices(project, twins, manager):
    first, second, *_rest, course_b = twins
    kept = merging.merge(
        first,
        [second],
        choices={"family_name": first.id},
        keep={course_b.id: second.enrolments[0].id},
        by=manager,
    )
    db.session.commit()
    line = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "merge"))
    assert line.entity == "participant" and line.entity_id == first.id
    assert line.changes["merged"] == [second.code]
    assert line.changes["choices"]["family_name"] == first.code
    assert line.changes["choices"]["phone"] == second.code
    assert kept.created_by_label == manager.email
    merging.undo(kept, by=manager)
    db.session.commit()
    line = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unmerge"))
    assert line.changes["merge"] == kept.id and line.changes["merged"] == [second.code]
    assert kept.undone_by_label == manager.email


def test_a_conflict_without_a_choice_is_refused_with_its_reason(project, twins):
    first, second, *_rest = twins
    with pytest.raises(merging.MergeRefused, match="Course B: choose the enrolment to keep"):
        merging.merge(first, [second])
    db.session.rollback()
    assert db.session.get(Participant, second.id).merged_into_id is None


@pytest.mark.parametrize("case", ["erased", "withdrawn", "other_project", "itself", "merged"])
def test_records_that_cannot_be_merged_are_refused(
    case, project, other_project, make_participant, twins
):
    first, second, other, *_rest = twins
    expected = {
        "erased": "erased",
        "withdrawn": "no current consent",
        "other_project": "different projects",
        "itself": "into itself",
        "merged": "already merged",
    }[case]
    others = [other]
    if case == "erased":
        services.erase(other)
    elif case == "withdrawn":
        withdraw_consent(other.consents[0], on=date(2016, 1, 1))
    elif case == "other_project":
        others = [make_participant(other_project, given_name="Awa", family_name="Diop")]
    elif case == "itself":
        others = [first]
    elif case == "merged":
        merging.merge(make_participant(project, given_name="Awa", family_name="Diop"), [other])
    with pytest.raises(merging.MergeRefused, match=expected):
        merging.merge(first, others)


def test_undo_is_refused_once_a_record_changed_since(project, twins):
    first, second, *_rest, course_b = twins
    kept = merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id})
    db.session.commit()
    services.update_participant(db.session.get(Participant, first.id), city="Oujda")
    db.session.commit()
    assert "changed since" in merging.undo_refusal(kept)
    with pytest.raises(merging.MergeRefused, match="changed since"):
        merging.undo(kept)


def test_undo_twice_is_refused(project, twins):
    first, second, *_rest, course_b = twins
    kept = merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id})
    merging.undo(kept)
    with pytest.raises(merging.MergeRefused, match="already undone"):
        merging.undo(kept)


def test_a_merged_record_can_no_longer_be_changed(project, twins, make_course):
    first, second, *_rest, course_b = twins
    merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id})
    merged = db.session.get(Participant, second.id)
    with pytest.raises(Exception, match="merged into another record"):
        services.update_participant(merged, city="Rabat")
    with pytest.raises(Exception, match="merged into another record"):
        enrol(merged, make_course(project, title="Course C"), on=date(2015, 2, 1))


def test_the_survivors_history_holds_the_merged_records_history(project, twins):
    first, second, *_rest, course_b = twins
    merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id})
    db.session.commit()
    lines = services.history(db.session.get(Participant, first.id))
    assert any(e.entity == "participant" and e.entity_id == second.id for e in lines)
    assert any(e.action == "merge" for e in lines)


# --- on the web ---------------------------------------------------------------------------


def test_a_manager_compares_merges_and_undoes_on_the_web(client, signin, manager, project, twins):
    first, second, *_rest, course_b = twins
    signin(manager)
    page = client.get("/participants/merge", query_string={"ids": [first.id, second.id]})
    assert page.status_code == 200
    assert "Course B" in page.text and 'name="choice-phone"' in page.text
    kept_id = second.enrolments[0].id
    response = client.post(
        "/participants/merge",
        data={
            "ids": [first.id, second.id],
            "survivor": first.id,
            "choice-given_name": second.id,
            f"keep-{course_b.id}": kept_id,
        },
    )
    assert response.status_code == 302
    assert db.session.get(Participant, second.id).merged_into_id == first.id
    # the merged record's code leads to the survivor; the list no longer shows it
    follow = client.get(f"/participants/{second.id}")
    assert follow.status_code == 302 and follow.location.endswith(f"/participants/{first.id}")
    case_file = client.get(f"/participants/{first.id}").text
    assert "Undo this merge" in case_file and "was merged into" in case_file
    assert second.code not in client.get("/participants/", query_string={"q": "Aminata"}).text
    # the merged code, searched for, leads to the survivor
    lead = client.get("/participants/", query_string={"q": second.code.lower()}).text
    assert f"{second.code} was merged into {first.code}" in lead
    assert f'href="/participants/{first.id}"' in lead
    kept = db.session.scalar(select(ParticipantMerge))
    assert client.post(f"/participants/merges/{kept.id}/undo").status_code == 302
    db.session.expire_all()
    assert db.session.get(Participant, second.id).merged_into_id is None


def test_a_conflict_left_open_on_the_web_says_why(client, signin, manager, twins):
    first, second, *_rest = twins
    signin(manager)
    page = client.post(
        "/participants/merge", data={"ids": [first.id, second.id], "survivor": first.id}
    )
    assert page.status_code == 200 and "choose the enrolment to keep" in page.text
    db.session.expire_all()
    assert db.session.get(Participant, second.id).merged_into_id is None


def test_officers_and_viewers_cannot_merge(client, login, make_user, project, twins):
    first, second, *_rest = twins
    for role in (Role.OFFICER, Role.VIEWER):
        login(make_user(role, [project]))
        query = {"ids": [first.id, second.id]}
        assert client.get("/participants/merge", query_string=query).status_code == 403
        client.post("/auth/logout")


def test_a_manager_cannot_merge_records_of_a_project_not_hers(
    client, signin, make_user, other_project, twins
):
    first, second, *_rest = twins
    signin(make_user(Role.MANAGER, [other_project], email="elsewhere@example.org"))
    page = client.get("/participants/merge", query_string={"ids": [first.id, second.id]})
    assert page.status_code == 404


# --- a property: whatever the records and the choices --------------------------------------

STATUSES = (None, "enrolled", "completed", "dropped_out")
person = st.fixed_dictionaries(
    {
        "courses": st.tuples(st.sampled_from(STATUSES), st.sampled_from(STATUSES)),
        "placed": st.booleans(),
        "phone": st.sampled_from([None, "0612345678", "0698765432"]),
        "family_name": st.sampled_from(["Traoré", "Traore", "Diallo"]),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(person, min_size=2, max_size=4),
    merged=st.integers(min_value=1, max_value=3),
    data=st.data(),
)
def test_any_merge_counts_each_person_once_and_its_undo_restores_everything(
    project, make_participant, make_course, people, merged, data
):
    """Random records and choices: the figures after a merge are those counted by hand.

    Counted by hand from the records before the merge: the survivor and the merged
    records are one person; she is enrolled (trained) when the enrolment kept in some
    course is (completed), and placed when any of them was.
    """
    # the courses of the first example serve the next ones (only their people are rolled back)
    courses = db.session.scalars(select(TrainingCourse).order_by(TrainingCourse.title)).all()
    if not courses:
        courses = [make_course(project, title="Course A"), make_course(project, title="Course B")]
        db.session.commit()
    try:
        records = []
        for number, p in enumerate(people):
            record = make_participant(
                project, given_name="Aminata", family_name=p["family_name"], phone=p["phone"],
                registered_on=date(2015, 1, 1 + number),
            )  # fmt: skip
            for course, status in zip(courses, p["courses"], strict=True):
                if status is not None:
                    enrolment = enrol(record, course, on=date(2015, 2, 1))
                    if status == "completed":
                        complete(enrolment, on=date(2015, 5, 31))
                    elif status == "dropped_out":
                        drop_out(enrolment, on=date(2015, 3, 1))
            if p["placed"]:
                record_placement(
                    record, kind=PlacementKind.IGA, sector="Couture", start_date=date(2015, 7, 1),
                    business_name="Atelier",
                )  # fmt: skip
            records.append(record)
        group = records[: 1 + min(merged, len(records) - 1)]
        alone = records[len(group) :]
        before_rows, before_figures = dump(), figures(project)

        choices = {
            name: data.draw(st.sampled_from([r.id for r in group]), label=name)
            for name in merging.FIELDS
            if data.draw(st.booleans(), label=f"choose {name}")
        }
        keep, group_status = {}, []
        for index, course in enumerate(courses):
            enrolled = [(r, people[records.index(r)]["courses"][index]) for r in group]
            enrolled = [(r, s) for r, s in enrolled if s is not None]
            if len(enrolled) > 1:
                chosen = data.draw(st.sampled_from(range(len(enrolled))), label=course.title)
                record, status = enrolled[chosen]
                keep[course.id] = next(e.id for e in record.enrolments if e.course_id == course.id)
                group_status.append(status)
            elif enrolled:
                group_status.append(enrolled[0][1])
        kept = merging.merge(group[0], group[1:], choices=choices, keep=keep)

        def counted(statuses_of_each: list[list[str]]) -> tuple[int, int]:
            enrolled = sum(1 for s in statuses_of_each if s)
            trained = sum(1 for s in statuses_of_each if "completed" in s)
            return enrolled, trained

        statuses = [group_status] + [[s for s in people[records.index(r)]["courses"] if s]
                                     for r in alone]  # fmt: skip
        enrolled, trained = counted(statuses)
        placed = any(people[records.index(r)]["placed"] for r in group) + sum(
            people[records.index(r)]["placed"] for r in alone
        )
        after = figures(project)
        assert after["registered"] == len(alone) + 1
        assert (after["enrolled"], after["trained"], after["placed"]) == (enrolled, trained, placed)

        merging.undo(kept)
        assert figures(project) == before_figures
        assert dump() == before_rows
    finally:
        db.session.rollback()


def test_a_kept_reports_what_changed_since_names_the_merge(client, signin, manager, project, twins):
    from tracker.reports.services import generate_donor_report

    first, second, *_rest, course_b = twins
    report = generate_donor_report(
        project, None, None, language="en", narrative={}, by=manager,
        actor_label=manager.email, threshold=5,
    )  # fmt: skip
    db.session.commit()
    merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id}, by=manager)
    db.session.commit()
    signin(manager)
    page = client.get(f"/reports/generated/{report.id}").text
    assert "Duplicate records merged since" in page
    assert f"{second.code} merged into {first.code}" in page


def test_an_erasure_reaches_the_copies_a_merge_keeps_for_its_undo(project, twins):
    first, second, *_rest, course_b = twins
    kept = merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id})
    db.session.commit()
    services.erase(db.session.get(Participant, first.id))
    db.session.commit()
    db.session.refresh(kept)
    # the survivor and the record merged into hers are one person: both erased
    assert db.session.get(Participant, second.id).erased_at is not None
    for row in kept.before["participant"].values():
        assert row["given_name"] == "[erased]" and row["phone"] is None
    assert all(p["business_name"] == "[erased]" for p in kept.before["placement"].values())
    assert "Aminata" not in str(kept.before) and "612345678" not in str(kept.before)
    # and the audit log never held them
    lines = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "participant_merge"))
    assert all("Aminata" not in str(line.changes) for line in lines)
    assert "changed since" in merging.undo_refusal(kept)


def test_an_import_naming_a_merged_code_records_the_row_for_the_survivor(
    project, twins, make_course
):
    from tracker.imports import reader
    from tracker.imports import services as imports
    from tracker.imports.report import Context

    first, second, *_rest, course_b = twins
    merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id})
    course = make_course(project, title="Course C", start=date(2015, 6, 1), end=date(2015, 9, 30))
    db.session.commit()
    data = (
        "participant_code;project_code;course_title;course_start_date;enrolled_on;status\n"
        f"{second.code};{project.code};Course C;2015-06-01;2015-06-01;enrolled\n"
    ).encode()
    report = imports.run(
        "enrolments", reader.read(data, max_rows=10), filename="e.csv",
        digest=imports.sha256(data), ctx=Context(user=None, default_project=None,
                                                today=date.today()),
    )  # fmt: skip
    assert report.written == 1
    assert any(f"merged into {first.code}" in w.message for w in report.warnings)
    (enrolment,) = db.session.scalars(select(Enrolment).where(Enrolment.course_id == course.id))
    assert enrolment.participant_id == first.id


def test_the_history_reads_the_merge_in_words(client, signin, manager, project, twins):
    first, second, *_rest, course_b = twins
    merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id}, by=manager)
    db.session.commit()
    signin(manager)
    # the words of the sentences, without the isolates around their values (FSI, PDI)
    page = client.get(f"/participants/{first.id}").text.replace("\u2068", "").replace("\u2069", "")
    # the survivor bears the name chosen from the second record
    assert "Duplicates merged into Aminata Traore&#39;s record" in page
    assert f"Records merged: {second.code}" in page and f"Surviving record: {first.code}" in page
    # the rows handed over are said by the codes of the two records, which bear one name
    assert f"Enrolment moved from record {second.code} to record {first.code}" in page
    assert f"Aminata Traore&#39;s record merged into record {first.code}" in page
    assert f"Values kept from: {second.code} for given name, family name," in page
    assert "Enrolments kept: 1" in page and "kept_enrolments" not in page


def test_the_course_page_counts_the_merged_person_once(project, twins):
    from tracker.trainings.services import roster, seats

    first, second, _other, _a, course_b = twins
    # the survivor's open enrolment in course B is handed to the merged record
    merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id})
    assert [e.participant_id for e in roster(course_b)] == [first.id]
    taken = seats([course_b.id])[course_b.id]
    assert (taken.enrolled, taken.completed) == (0, 1)
    left_behind = db.session.scalar(select(Enrolment).where(Enrolment.participant_id == second.id))
    with pytest.raises(Exception, match="merged into another record"):
        complete(left_behind, on=date(2015, 5, 31))


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    form=st.dictionaries(
        st.sampled_from(
            ["ids", "survivor", "choice-given_name", "choice-phone", "choice-nope", "keep-1",
             "keep-2", "keep-999"]
        ),
        st.lists(
            st.one_of(st.integers(-5, 10).map(str), st.just("9" * 30), st.text(max_size=5)),
            max_size=3,
        ),
    )
)  # fmt: skip
@example(form={"ids": ["1", "9" * 30]})
@example(form={"survivor": ["9" * 30], "choice-phone": ["-1"]})
def test_the_merge_form_never_fails_on_what_it_is_sent(client, signin, manager, twins, form):
    """Whatever is posted, the answer is a page, a refusal or a merge, never an error."""
    first, second, *_rest = twins
    if not getattr(client, "_signed_in", False):
        signin(manager)
        client._signed_in = True
    data = {"ids": [str(first.id), str(second.id)], **form}
    response = client.post("/participants/merge", data=data)
    assert response.status_code in (200, 302, 400, 404)
    db.session.rollback()
    merged = db.session.scalars(select(ParticipantMerge)).all()
    for kept in merged:  # a merge that went through is undone for the next example
        if kept.undone_at is None:
            merging.undo(kept)
    db.session.commit()


# --- on the command line ------------------------------------------------------------------


def test_duplicates_list_merge_and_unmerge_on_the_command_line(runner, project, twins):
    first, second, other, *_rest, course_b = twins
    listed = runner.invoke(args=["duplicates", "list", "--project", project.code])
    assert listed.exit_code == 0
    lines = listed.stdout.strip().splitlines()
    assert lines == [
        f"{first.code}\t{second.code}\t100\tname 100 %, same birth date, same nationality"
    ]
    assert runner.invoke(args=["duplicates", "list", "--min-score", "101"]).exit_code == 2

    refused = runner.invoke(args=["merge", first.code, second.code])
    assert refused.exit_code == 1
    assert f"course {course_b.id} (Course B)" in refused.stderr and "--keep" in refused.stderr

    keep = f"--keep={course_b.id}={second.code}"
    dry = runner.invoke(args=["merge", first.code, second.code, keep, "--dry-run"])
    assert dry.exit_code == 0 and "nothing was changed" in dry.stdout
    assert db.session.get(Participant, second.id).merged_into_id is None

    done = runner.invoke(args=["merge", first.code, second.code, keep])
    assert done.exit_code == 0, done.output
    merge_id = int(done.stdout.strip().splitlines()[-1].removeprefix("merge "))
    db.session.expire_all()
    assert db.session.get(Participant, second.id).merged_into_id == first.id
    line = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "merge"))
    assert line.actor_label == "cli:merge"
    assert runner.invoke(args=["duplicates", "list"]).stdout == ""

    undone = runner.invoke(args=["unmerge", str(merge_id)])
    assert undone.exit_code == 0 and f"merge {merge_id} undone" in undone.stdout
    again = runner.invoke(args=["unmerge", str(merge_id)])
    assert again.exit_code == 1 and "already undone" in again.stderr
    assert runner.invoke(args=["merge", first.code, "NOPE"]).exit_code == 1


def test_the_quality_panel_leaves_merged_records_out(project, twins):
    from tracker.dashboard import quality

    first, second, *_rest, course_b = twins
    # the survivor's open enrolment in course B (ended) goes to the merged record
    merging.merge(first, [second], keep={course_b.id: second.enrolments[0].id})
    checks = {c.key: c for c in quality.quality([project.id], date.today())}
    assert checks["open_enrolments"].total == 0
    assert checks["duplicates"].total == 0
    assert second.code not in [code for _r, code, _w in checks["missing_fields"].items]
