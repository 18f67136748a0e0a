"""The audit log: append-only from the app, readable by administrators with filters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from tracker import audit
from tracker.audit import AuditLogIsAppendOnly
from tracker.extensions import db
from tracker.models import AuditEvent, Role

#: the marks that isolate each value of a sentence (tracker.auditlog.sentences.isolate)
FSI, PDI = "\u2068", "\u2069"


def _plain(text: str) -> str:
    """``text`` without the isolates around its values: the words the tests compare."""
    return text.replace(FSI, "").replace(PDI, "")


def _line(**kw) -> AuditEvent:
    kw.setdefault("actor_label", "cli:test")
    kw.setdefault("action", "create")
    kw.setdefault("entity", "project")
    event = AuditEvent(**kw)
    db.session.add(event)
    db.session.commit()
    return event


def _stored(event_id: int):
    return db.session.execute(
        text("SELECT action, actor_label FROM audit_event WHERE id = :id"), {"id": event_id}
    ).one_or_none()


# --- append-only ----------------------------------------------------------------


def test_changing_a_committed_line_is_refused(app):
    event = _line(action="login", entity="user")
    event.actor_label = "someone else"
    with pytest.raises(AuditLogIsAppendOnly, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert tuple(_stored(event.id)) == ("login", "cli:test")


def test_deleting_a_committed_line_is_refused(app):
    event = _line()
    db.session.delete(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert _stored(event.id) is not None


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(actor_label="forged"),
        delete(AuditEvent),
        update(AuditEvent.__table__).values(actor_label="forged"),
        delete(AuditEvent.__table__).where(AuditEvent.__table__.c.action == "create"),
    ],
    ids=["orm update", "orm delete", "core update", "core delete"],
)
def test_bulk_statements_on_the_log_are_refused(app, statement):
    event = _line()
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(statement)
    db.session.rollback()
    assert tuple(_stored(event.id)) == ("create", "cli:test")


def test_a_session_of_its_own_cannot_change_the_log_either(app):
    """The short sessions that write read lines go through the same mapper guard."""
    event_id = _line().id
    db.session.commit()  # the app's session lets go of the database (SQLite: one writer)
    with Session(db.engine) as session:
        session.get(AuditEvent, event_id).action = "view"
        with pytest.raises(AuditLogIsAppendOnly):
            session.commit()
    assert _stored(event_id).action == "create"


def test_a_line_may_be_completed_before_its_transaction_commits(app):
    """An import writes its line first and its totals at the end, in one transaction."""
    event = audit.record(db.session, "import", "participants", None, {})
    db.session.flush()
    event.changes = {"rows": 3}
    db.session.commit()
    assert db.session.get(AuditEvent, event.id).changes == {"rows": 3}
    # committed: from now on it is part of the log
    event.changes = {"rows": 4}
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()


def test_other_tables_still_update_and_delete(make_project, make_partner):
    partner = make_partner("Old name")
    db.session.commit()
    partner.name = "New name"
    db.session.commit()
    db.session.delete(partner)
    db.session.commit()
    assert [
        e.action
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "partner").order_by(AuditEvent.id)
        )
    ] == ["create", "update", "delete"]


# --- the page ---------------------------------------------------------------------


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, [], email="admin@example.org")


def _page(client, **args) -> str:
    response = client.get("/admin/audit/", query_string=args)
    assert response.status_code == 200
    return _plain(response.get_data(as_text=True))


def _lines(page: str) -> str:
    """The list of lines, without the filter form (whose menus name every user)."""
    start = page.find('<ol class="history audit">')
    return page[start : page.index("</ol>", start)] if start >= 0 else ""


def test_only_administrators_open_the_log(client, signin, admin, officer, manager, viewer):
    for user in (officer, manager, viewer):
        client.post("/auth/logout")
        signin(user)
        assert client.get("/admin/audit/").status_code == 403
        assert "/admin/audit/" not in client.get("/").get_data(as_text=True)
    client.post("/auth/logout")
    signin(admin)
    assert "/admin/audit/" in client.get("/").get_data(as_text=True)
    assert client.get("/admin/audit/").status_code == 200


def test_lines_in_words_newest_first_with_links(
    client, signin, admin, officer, project, make_participant
):
    with audit.acting_as("officer@example.org", officer):
        person = make_participant(
            project, given_name="Awa", family_name="Diallo", region="Oriental"
        )
        db.session.commit()
        person.region = "Souss-Massa"
        db.session.commit()
    signin(admin)
    page = _lines(_page(client, entity="participant"))
    changed = page.index("Awa Diallo&#39;s region changed")
    created = page.index("Awa Diallo registered")
    assert changed < created  # newest first
    assert "Region changed from Oriental to Souss-Massa" in page
    assert f'href="/participants/{person.id}"' in page
    assert "officer@example.org" in page
    # the stored line stays one click away, exact but not a Python dictionary
    assert '<details class="exact">' in page
    assert "<dt>region</dt><dd><code>Oriental → Souss-Massa</code></dd>" in page
    assert "<dt>given_name</dt><dd><code>(empty) → (masked)</code></dd>" in page
    assert f"<code>participant #{person.id}</code>" in page
    for raw in ("{&#39;", "[&#39;", "∅", "***", "None"):
        assert raw not in page


def test_no_personal_value_reaches_the_page(client, signin, admin, project, make_participant):
    person = make_participant(
        project,
        given_name="Zyxw",
        family_name="Qunique",
        phone="+212 611 22 33 44",
        email="zyxw@example.net",
    )
    person.sensitive_notes = "Vulnerable: pregnant"
    db.session.commit()
    person.family_name = "Nouveau"
    person.phone = "+212 699 88 77 66"
    db.session.commit()
    signin(admin)
    client.get(f"/participants/{person.id}")  # a read line too
    page = _page(client, reads="y")
    # the log never held her values: the old name, phones, e-mail and notes are not shown
    for secret in ("Qunique", "611 22", "699 88", "zyxw@", "pregnant", "***"):
        assert secret not in page
    # the fields are named; she is named as she is today, for whom may read names
    assert "Zyxw Nouveau&#39;s family name and phone changed" in page
    assert "Family name changed (the value is not kept in the log)" not in page
    # who read which names on the log is itself logged
    reads = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "view").order_by(AuditEvent.id)
    ).all()
    assert reads[-1].changes == {"context": "audit_log", "participant_ids": [person.id]}
    assert reads[-1].actor_id == admin.id


def test_page_views_are_hidden_until_asked_for(client, signin, admin, project, make_participant):
    person = make_participant(project, given_name="Awa", family_name="Diallo")
    db.session.commit()
    _line(actor_label="reader@example.org", action="view", entity="participant",
          entity_id=person.id)  # fmt: skip
    _line(actor_label="exporter@example.org", action="export", entity="participants",
          changes={"format": "csv", "rows": 1})  # fmt: skip
    signin(admin)
    page = _page(client)
    assert "exporter@example.org" in _lines(page) and "Participants exported" in page
    assert "reader@example.org" not in _lines(page)
    assert "pages opened not shown" in page
    assert '<input id="reads" name="reads" type="checkbox" value="y">' in page
    page = _page(client, reads="y")
    assert "reader@example.org" in _lines(page) and "exporter@example.org" in _lines(page)
    assert "Awa Diallo&#39;s record opened" in page
    assert 'class="read"' in page and "pages opened not shown" not in page
    # asking for the action "viewed" is asking for the page views
    page = _lines(_page(client, action="view"))
    assert "reader@example.org" in page and "exporter@example.org" not in page


def test_the_case_file_history_reads_in_sentences(
    client, signin, officer, manager, admin, project, make_participant, make_course
):
    from tracker.trainings.services import complete, enrol

    person = make_participant(project, given_name="Awa", family_name="Diallo", region="Oriental")
    course = make_course(project, title="Couture")
    complete(enrol(person, course, on=date(2015, 2, 1)), on=date(2015, 5, 31))
    person.phone = "+212 600 00 00 09"
    db.session.commit()
    signin(officer)
    page = _plain(client.get(f"/participants/{person.id}").get_data(as_text=True))
    history = page[page.index('id="history"') :]
    assert "Awa Diallo&#39;s phone changed" in history
    assert "Awa Diallo&#39;s enrolment in “Couture” changed" in history
    assert "Status changed from Enrolled to Completed" in history
    assert "Completion date set to May 31, 2015" in history
    assert "Awa Diallo registered" in history
    for raw in ("∅", "→", "***", "{", "None"):
        assert raw not in history
    # page views: not for an officer, who also does not read the stored lines
    assert "Show who opened this record too" not in history
    assert '<details class="exact">' not in history
    page = _plain(client.get(f"/participants/{person.id}?reads=1").get_data(as_text=True))
    assert "record opened" not in page[page.index('id="history"') :]
    client.post("/auth/logout")
    signin(manager)
    page = _plain(client.get(f"/participants/{person.id}").get_data(as_text=True))
    history = page[page.index('id="history"') :]
    assert "Show who opened this record too" in history and "record opened" not in history
    page = _plain(client.get(f"/participants/{person.id}?reads=1").get_data(as_text=True))
    history = page[page.index('id="history"') :]
    assert "Awa Diallo&#39;s record opened" in history and "officer@example.org" in history
    assert "Hide the pages opened" in history
    client.post("/auth/logout")
    signin(admin)
    page = _plain(client.get(f"/participants/{person.id}").get_data(as_text=True))
    assert '<details class="exact">' in page[page.index('id="history"') :]


def test_the_case_file_history_in_french(client, login, officer, project, make_participant):
    person = make_participant(project, given_name="Awa", family_name="Diallo", region="Oriental")
    db.session.commit()
    person.region = "Souss-Massa"
    db.session.commit()
    login(officer)
    page = _plain(client.get(f"/participants/{person.id}").get_data(as_text=True))
    history = page[page.index('id="history"') :]
    assert "Fiche de Awa Diallo modifiée : région" in history
    assert "Région : Souss-Massa au lieu de Oriental" in history
    assert "Nouvelle fiche : Awa Diallo" in history


def test_filters(client, signin, admin, officer, make_user):
    other = make_user(Role.MANAGER, [], email="other@example.org")
    _line(
        actor_id=officer.id,
        actor_label=officer.email,
        action="login",
        entity="user",
        entity_id=officer.id,
        occurred_at=datetime(2024, 3, 1, 9, tzinfo=UTC),
    )
    _line(
        actor_id=other.id,
        actor_label=other.email,
        action="export",
        entity="participants",
        occurred_at=datetime(2024, 3, 5, 23, 59, tzinfo=UTC),
    )
    _line(
        actor_label="cli:retention",
        action="erase",
        entity="participant",
        entity_id=77,
        occurred_at=datetime(2024, 4, 2, 0, 0, tzinfo=UTC),
    )
    signin(admin)

    def shown(**args):
        page = _lines(_page(client, **args))
        return {label for label in (officer.email, other.email, "cli:retention") if label in page}

    assert shown() == {officer.email, other.email, "cli:retention"}
    assert shown(actor=other.id) == {other.email}
    assert shown(action="erase") == {"cli:retention"}
    assert shown(entity="participants") == {other.email}
    assert shown(record=77) == {"cli:retention"}
    # whole days, both ends included
    assert shown(start="2024-03-05", end="2024-03-05") == {other.email}
    assert shown(start="2024-03-01", end="2024-04-01") == {officer.email, other.email}
    assert shown(start="2024-04-02", end="2024-04-30") == {"cli:retention"}
    assert shown(text="CLI:") == {"cli:retention"}
    assert shown(text="%") == set()  # a LIKE wildcard is taken literally
    assert shown(action="login", start="2024-03-02") == set()


def test_bad_filters_are_named_and_left_out(client, signin, admin):
    _line(actor_label="cli:seed", occurred_at=datetime(2024, 5, 2, tzinfo=UTC))
    _line(actor_label="cli:demo", occurred_at=datetime(2024, 5, 3, tzinfo=UTC))
    signin(admin)
    page = _page(client, start="2024-05-02", end="2024-05-01", record="-3", text="cli:")
    assert "The end of the period is before its start." in page
    assert "The record number is a whole number from 1." in page
    # the filters that are right still apply
    assert "cli:seed" in _lines(page) and "cli:demo" in _lines(page)
    assert "admin@example.org" not in _lines(page)
    page = _page(client, record="abc", text="cli:seed")
    assert "Not a valid integer value." in page
    assert "cli:seed" in _lines(page) and "cli:demo" not in _lines(page)


def test_pages_of_fifty(client, signin, admin):
    for n in range(55):
        db.session.add(
            AuditEvent(
                actor_label=f"cli:n{n:02d}",
                action="create",
                entity="project",
                occurred_at=datetime(2024, 1, 1, 0, n, tzinfo=UTC),
            )
        )
    db.session.commit()
    signin(admin)
    first = _page(client, text="cli:n")
    assert "cli:n54" in first and "cli:n05" in first and "cli:n04" not in first
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = _page(client, text="cli:n", page=2)
    assert "cli:n04" in second and "cli:n00" in second and "cli:n05" not in second
    # the next page link keeps the filter
    assert "text=cli:n&amp;page=2" in first


def test_links_to_records_of_other_kinds(
    client, signin, admin, project, make_participant, make_course
):
    from tracker.trainings.services import enrol

    person = make_participant(project)
    course = make_course(project)
    enrolment = enrol(person, course, on=date(2015, 1, 20))
    db.session.commit()
    signin(admin)
    page = _page(client, entity="enrolment")
    assert f"enrolment #{enrolment.id}" in page
    assert f'href="/participants/{person.id}"' in page
    page = _page(client, entity="training_course")
    assert f'href="/trainings/{course.id}"' in page


# --- sentences ------------------------------------------------------------------------


@pytest.fixture
def awa(project, make_participant, make_course, make_partner):
    """Awa Diallo, enrolled in a course "Couture"; the enrolment is returned with her."""
    from tracker.trainings.services import enrol

    person = make_participant(project, given_name="Awa", family_name="Diallo")
    course = make_course(project, title="Couture")
    enrolment = enrol(person, course, on=date(2015, 2, 1))
    db.session.commit()
    return person, enrolment


def _event(action, entity, entity_id=None, changes=None):
    return AuditEvent(
        action=action, entity=entity, entity_id=entity_id, changes=changes, actor_label="x"
    )


def _say(events, reader, lang="en"):
    from flask_babel import force_locale

    from tracker.auditlog import sentences

    with force_locale(lang):
        lines = sentences.describe(events, reader)
    return [
        replace(line, sentence=_plain(line.sentence), details=[_plain(d) for d in line.details])
        for line in lines
    ]


def _cases(person, enrolment, admin, project):
    """(event, English sentence, French sentence) for every action the code writes."""
    return [
        (
            _event("create", "participant", person.id,
                   {"code": [None, person.code], "given_name": [None, "***"],
                    "region": [None, "Oriental"]}),
            "Awa Diallo registered",
            "Nouvelle fiche : Awa Diallo",
        ),
        (
            _event("update", "participant", person.id, {"phone": ["***", "***"]}),
            "Awa Diallo's phone changed",
            "Fiche de Awa Diallo modifiée : téléphone",
        ),
        (
            _event("delete", "enrolment", enrolment.id),
            "Awa Diallo's enrolment in “Couture” deleted",
            "Suppression : inscription de Awa Diallo à « Couture »",
        ),
        (
            _event("view", "participant", person.id),
            "Awa Diallo's record opened",
            "Consultation : fiche de Awa Diallo",
        ),
        (
            _event("login", "user", admin.id),
            "admin@example.org signed in",
            "Connexion de admin@example.org",
        ),
        (
            _event("login_failed", "user", None,
                   {"reason": "unknown_account", "email_hash": "ab12"}),
            "Refused sign-in for an e-mail address with no account",
            "Connexion refusée pour une adresse e-mail sans compte",
        ),
        (
            _event("login_throttled", "user", admin.id),
            "Sign-in paused after too many attempts (admin@example.org)",
            "Connexion suspendue après trop de tentatives (admin@example.org)",
        ),
        (
            _event("work_throttled", "user", admin.id, {"work": "export", "window": "10/1 minute"}),
            "Exports, imports or reports paused after too many requests (admin@example.org)",
            "Exports, imports ou rapports suspendus après trop de demandes (admin@example.org)",
        ),
        (
            _event("session_expired", "user", admin.id, {"reason": "idle"}),
            "admin@example.org's session expired",
            "Session de admin@example.org expirée",
        ),
        (
            _event("logout", "user", admin.id),
            "admin@example.org signed out",
            "Déconnexion de admin@example.org",
        ),
        (
            _event("report", "project", project.id, {"kind": "donor", "from": "2015-01-01"}),
            "Donor report generated for project IDF-MA-2014",
            "Rapport au bailleur généré : projet IDF-MA-2014",
        ),
        (
            _event("export", "participants", None, {"format": "xlsx", "rows": 3}),
            "Participants exported",
            "Export : personnes",
        ),
        (
            _event("import", "participants", None, {"file": "people.csv", "written": 3}),
            "Participants imported from a file",
            "Import depuis un fichier : personnes",
        ),
        (
            _event("erase", "participant", person.id, {"reason": "retention"}),
            "Awa Diallo's identity erased",
            "Identité de Awa Diallo effacée",
        ),
        (
            _event(
                "subject_access",
                "participant",
                person.id,
                {"format": "pdf", "lang": "ar", "sha256": "ab" * 32},
            ),
            "Copy of everything held on Awa Diallo made for her",
            "Copie de tout ce qui est détenu sur Awa Diallo préparée pour elle",
        ),
        (
            _event("backup", "database", None, {"file": "/b/x.db", "bytes": 10}),
            "Database backed up",
            "Base de données sauvegardée",
        ),
        (
            _event("restore", "database", None, {"file": "/b/x.db"}),
            "Database restored from a backup",
            "Base de données restaurée depuis une sauvegarde",
        ),
        (
            _event("merge", "participant", person.id,
                   {"merge": 1, "survivor": person.code, "merged": ["MA-9"],
                    "moved": {"enrolment": 1}}),
            "Duplicates merged into Awa Diallo's record",
            "Doublons fusionnés dans la fiche de Awa Diallo",
        ),
        (
            _event("unmerge", "participant", person.id,
                   {"merge": 1, "survivor": person.code, "merged": ["MA-9"]}),
            "Merge into Awa Diallo's record undone",
            "Fusion dans la fiche de Awa Diallo annulée",
        ),
        (
            _event("rebuild_indicators", "project", project.id, {"people": 4}),
            "Indicator figures rebuilt for project IDF-MA-2014",
            "Chiffres des indicateurs recalculés : projet IDF-MA-2014",
        ),
        (
            _event("cancel", "job", 5, {"kind": [None, "export"]}),
            "Job cancelled",
            "Annulation : tâche",
        ),
        (
            _event("discard", "incoming_submission", 3, {"reason": "too old", "uuid": "u-1"}),
            "Incoming form submission discarded",
            "Mise à l'écart : soumission de formulaire reçue",
        ),
        (
            _event("prune", "audit_event", None),
            "Oldest audit lines deleted behind a signed checkpoint",
            "Lignes d'audit les plus anciennes supprimées derrière un point de contrôle signé",
        ),
        (
            _event("second_factor_enrolled", "user", admin.id),
            "admin@example.org set up two-step sign-in",
            "admin@example.org a activé la connexion en deux étapes",
        ),
        (
            _event("second_factor_reset", "user", admin.id),
            "Two-step sign-in of admin@example.org reset",
            "Connexion en deux étapes de admin@example.org réinitialisée",
        ),
        (
            _event("second_factor_failed", "user", admin.id),
            "Wrong sign-in code for admin@example.org",
            "Code de connexion erroné pour admin@example.org",
        ),
        (
            _event("recovery_code_used", "user", admin.id),
            "admin@example.org signed in with a recovery code",
            "admin@example.org s'est connecté·e avec un code de secours",
        ),
    ]  # fmt: skip


#: what a raw line would show: a dictionary, a list, the empty sign, a masked value, a key
RAW = ("{", "}", "[", "]", "∅", "→", "***", "None", "_")


def test_every_action_reads_as_a_sentence_in_english_and_french(awa, admin, project):
    from tracker.auditlog import sentences

    person, enrolment = awa
    cases = _cases(person, enrolment, admin, project)
    assert {event.action for event, _en, _fr in cases} == sentences.known_actions()
    events = [event for event, _en, _fr in cases]
    for lang, column in (("en", 1), ("fr", 2)):
        lines = _say(events, admin, lang)
        for line, case in zip(lines, cases, strict=True):
            assert line.sentence == case[column], (lang, line.event.action)
            for said in (line.sentence, *line.details):
                assert not any(sign in said for sign in RAW), said
                assert "ab12" not in said  # a keyed hash of an e-mail is for the exact line
    english = {line.event.action: line for line in _say(events, admin)}
    assert english["create"].details == [
        "Code: " + person.code,
        "Region: Oriental",
        "Also filled in (values not kept in the log): given name",
    ]
    assert "Reason: inactive too long" in english["session_expired"].details
    assert "Rows: 3" in english["export"].details
    assert "Kind: export" in english["cancel"].details
    assert "Records merged: MA-9" in english["merge"].details
    assert "Rows moved: Enrolment: 1" in english["merge"].details or any(
        "Rows moved" in d and "1" in d for d in english["merge"].details
    )
    french = {line.event.action: line for line in _say(events, admin, "fr")}
    assert "Région : Oriental" in french["create"].details
    assert "Motif : session inactive trop longtemps" in french["session_expired"].details


def test_an_unknown_action_still_reads_as_a_sentence(awa, admin):
    person, _enrolment = awa
    event = _event("frobnicate", "participant", person.id, {"odd_key": {"inner": [1, None]}})
    (line,) = _say([event], admin)
    assert line.sentence == "Frobnicate: Awa Diallo's record"
    assert line.details == ["Odd key: Inner: 1 and (empty)"]
    (line,) = _say([_event("frobnicate", "strange_thing", 4)], admin)
    assert line.sentence == "Frobnicate: a record of kind “strange_thing”"


def test_a_viewer_reads_codes_and_an_officer_names_only_in_her_projects(
    awa, admin, viewer, officer, stranger
):
    person, enrolment = awa
    events = [
        _event("update", "participant", person.id, {"phone": ["***", "***"]}),
        _event("update", "enrolment", enrolment.id, {"status": ["enrolled", "completed"]}),
        _event("view", "participants", None, {"participant_ids": [person.id]}),
    ]
    for reader in (viewer, stranger):
        lines = _say(events, reader)
        assert lines[0].sentence == f"{person.code}'s phone changed"
        assert lines[1].sentence == f"{person.code}'s enrolment in “Couture” changed"
        assert lines[2].details == [f"People shown: {person.code}"]
        assert not any(
            "Awa" in t or "Diallo" in t for li in lines for t in (li.sentence, *li.details)
        )
    lines = _say(events, officer)
    assert lines[0].sentence == "Awa Diallo's phone changed"
    assert lines[1].details == ["Status changed from Enrolled to Completed"]
    # a list read names people by code: database ids never reach a sentence
    assert lines[2].sentence == "The list of participants opened"
    assert str(person.id) not in " ".join(lines[2].details).replace(person.code, "")


def test_each_value_of_a_sentence_is_isolated_from_the_sentences_direction(
    awa, admin, project, client, signin
):
    """A Latin name in an Arabic sentence (and an Arabic one in a French sentence) is set
    apart by FSI…PDI, so the bidi algorithm cannot move it or the punctuation around it."""
    from flask_babel import force_locale

    from tracker.auditlog import sentences

    person, enrolment = awa
    events = [
        _event("update", "participant", person.id, {"region": ["Oriental", "Souss-Massa"]}),
        _event("delete", "enrolment", enrolment.id),
        _event("login", "user", admin.id),
        _event("view", "participants", None, {"participant_ids": [person.id]}),
    ]
    with force_locale("ar"):
        changed, deleted, login, read = sentences.describe(events, admin)
    name = f"{FSI}Awa Diallo{PDI}"
    assert name in changed.sentence and name in deleted.sentence
    assert not any("a" <= c <= "z" for c in _plain(changed.sentence).replace("Awa Diallo", ""))
    assert f"{FSI}Couture{PDI}" in deleted.sentence
    assert f"{FSI}admin@example.org{PDI}" in login.sentence
    assert f"{FSI}Oriental{PDI}" in changed.details[0]
    assert f"{FSI}Souss-Massa{PDI}" in changed.details[0]
    assert f"{FSI}{person.code}{PDI}" in read.details[0]
    # every sentence of every action: isolates in pairs, none left open
    cases = _cases(person, enrolment, admin, project)
    for lang in ("ar", "fr", "en"):
        with force_locale(lang):
            lines = sentences.describe([event for event, _en, _fr in cases], admin)
        for said in (t for line in lines for t in (line.sentence, *line.details)):
            depth = 0
            for char in said:
                depth += {FSI: 1, PDI: -1}.get(char, 0)
                assert depth >= 0, said
            assert depth == 0, said
    # an Arabic name in a French sentence, on the page: the marks reach the reader as text
    person.given_name, person.family_name = "عائشة", "ديالو"
    db.session.commit()
    db.session.add(
        _event("update", "participant", person.id, {"region": ["Oriental", "Souss-Massa"]})
    )
    db.session.commit()
    signin(admin)
    page = client.get("/admin/audit/", query_string={"entity": "participant"})
    assert f"{FSI}عائشة ديالو{PDI}" in page.get_data(as_text=True)


def test_a_long_list_read_is_said_by_its_first_codes(awa, admin):
    person, _enrolment = awa
    ids = [person.id, *range(900001, 900012)]  # her, and 11 records gone since
    (line,) = _say([_event("view", "participants", None, {"participant_ids": ids})], admin)
    assert line.details == [f"People shown: {person.code} and 11 more"]
    (line,) = _say([_event("view", "participants", None, {"participant_ids": ids})], admin, "fr")
    assert line.details == [f"Personnes montrées : {person.code} et 11 de plus"]


def test_records_are_named_not_numbered(awa, admin, project, make_partner):
    person, enrolment = awa
    other = make_partner(name="Entraide Nationale")
    db.session.commit()
    lines = _say(
        [
            _event("update", "placement", None, {"employer_id": [None, other.id]}),
            _event("update", "enrolment", enrolment.id, {"participant_id": [999999, person.id]}),
            _event("update", "participant", person.id,
                   {"archived_at": [None, "2024-03-01T10:00:00+00:00"]}),
            _event("update", "user", admin.id, {"projects": [[], ["IDF-MA-2014"]]}),
        ],
        admin,
    )  # fmt: skip
    assert lines[0].details == ["Employer set to Entraide Nationale"]
    assert lines[1].sentence == (
        f"Enrolment moved from record a record since deleted to record {person.code}"
    )
    assert lines[2].sentence == "Awa Diallo's record archived"
    assert lines[3].sentence == "Account admin@example.org changed"
    assert lines[3].details == ["Projects set to IDF-MA-2014"]


def _written_actions_and_entities() -> tuple[set[str], set[str]]:
    """Read the code for every audit line it writes: its action, and its entity when literal."""
    import ast
    from pathlib import Path

    import tracker

    actions, entities = set(), set()
    position = {"record": (1, 2), "record_now": (0, 1), "record_read": (None, 0),
                "record_shown": (None, 0)}  # fmt: skip
    for path in Path(tracker.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and getattr(func.value, "id", None) == "audit":
                    name = func.attr
                elif isinstance(func, ast.Name) and path.name == "audit.py":
                    name = func.id  # audit.py's own helpers call each other
                else:
                    continue
                if name not in position:
                    continue
                action_at, entity_at = position[name]
                if action_at is None:
                    actions.add("view")
                else:
                    arg = node.args[action_at] if len(node.args) > action_at else None
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        actions.add(arg.value)
                    else:
                        # only audit.py passes an action on; every other writer names it
                        assert path.name == "audit.py", f"{path}:{node.lineno}: literal action"
                arg = node.args[entity_at] if len(node.args) > entity_at else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    entities.add(arg.value)
            # rows written in bulk carry their line as a dict ({"action": "create", ...})
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "action"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        actions.add(value.value)
    return actions, entities


def test_every_action_and_record_kind_written_has_its_words(app):
    from tracker.audit import ACTION_LABELS, ENTITY_LABELS, NOT_AUDITED
    from tracker.auditlog import sentences
    from tracker.exports.services import KINDS
    from tracker.interop.services import DHIS2, IATI
    from tracker.models import Base

    actions, entities = _written_actions_and_entities()
    # the flush hook writes these three for every table
    actions |= {"create", "update", "delete"}
    assert {"login", "export", "merge", "view", "discard"} <= actions  # the reader works
    assert actions <= sentences.known_actions(), actions - sentences.known_actions()
    assert actions <= set(ACTION_LABELS)  # the filter's menu names them too
    tables = {
        mapper.class_.__tablename__
        for mapper in Base.registry.mappers
        if not issubclass(mapper.class_, NOT_AUDITED)
        and not mapper.class_.__tablename__.startswith("indicator_")
    }
    written = entities | tables | set(KINDS) | {IATI, DHIS2}
    assert written <= set(ENTITY_LABELS), written - set(ENTITY_LABELS)
