"""Two-step sign-in: TOTP (RFC 6238) after the password, recovery codes, admin reset."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tracker import security
from tracker.api import tokens
from tracker.auth import twofactor
from tracker.extensions import db
from tracker.models import AuditEvent, RecoveryCode, Role, User


@pytest.fixture
def app_config():
    """The sign-in limits on, as by default: wrong codes count with wrong passwords."""
    return {"RATELIMIT_ENABLED": True}


@pytest.fixture(autouse=True)
def english(client):
    client.post("/auth/language/en")


@pytest.fixture
def manager(make_user, project):
    return make_user(Role.MANAGER, [project], email="manager@example.org")


@pytest.fixture
def officer(make_user, project):
    return make_user(Role.OFFICER, [project], email="officer@example.org")


def _lines(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _secret_on_page(page: str) -> str:
    key = re.search(r'<code class="secret-key" id="manual-key">([A-Z2-7 ]+)</code>', page)
    assert key, "the manual key is on the page"
    return key.group(1).replace(" ", "")


def enrol(client, login, user) -> tuple[str, list[str]]:
    """Sign ``user`` in and set up two-step sign-in; return her secret and recovery codes."""
    assert login(user).status_code == 302
    page = client.get("/auth/two-factor").get_data(as_text=True)
    secret = _secret_on_page(page)
    done = client.post("/auth/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(
        r"<li><code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code></li>",
        done.get_data(as_text=True),
    )
    client.post("/auth/logout")
    return secret, codes


def _signed_in(client) -> bool:
    return client.get("/participants/").status_code == 200


def _move_time(monkeypatch, seconds: float) -> None:
    import time

    now = time.time()
    monkeypatch.setattr(twofactor, "clock", lambda: now + seconds)


# --- enrolment ------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_key_and_turns_on_with_a_code(client, login, officer):
    login(officer)
    page = client.get("/auth/two-factor")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<svg" in html and "QR code to scan" in html  # drawn on the server
    assert "<script" not in html and "http" not in html.split("<svg", 1)[1].split("</svg>")[0]
    secret = _secret_on_page(html)
    assert len(secret) == 32 and re.fullmatch(r"[A-Z2-7]+", secret)
    assert 'name="code"' in html and 'name="csrf_token"' in html
    # a wrong code turns nothing on
    wrong = client.post("/auth/two-factor", data={"code": "000000"})
    assert "This code does not match" in wrong.get_data(as_text=True)
    assert not db.session.get(User, officer.id).has_second_factor
    # the same key is shown again until it is confirmed
    assert _secret_on_page(client.get("/auth/two-factor").get_data(as_text=True)) == secret
    done = client.post("/auth/two-factor", data={"code": pyotp.TOTP(secret).now()})
    html = done.get_data(as_text=True)
    codes = re.findall(r"<li><code>([A-Z2-7-]{19})</code></li>", html)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "shown this once" in html
    user = db.session.get(User, officer.id)
    assert user.has_second_factor and user.totp_secret == secret
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not any(c.replace("-", "") in "".join(stored) for c in codes)
    # shown once: the page now says it is on, without the codes
    again = client.get("/auth/two-factor").get_data(as_text=True)
    assert "Two-step sign-in is on" in again and codes[0] not in again
    assert "10 unused recovery codes" in again
    (line,) = _lines("second_factor_enrolled")
    assert line.entity_id == officer.id
    assert secret not in str([e.changes for e in db.session.scalars(select(AuditEvent))])


# --- signing in -----------------------------------------------------------------------


def test_sign_in_asks_for_the_code_after_the_password(client, login, officer, monkeypatch):
    secret, _codes = enrol(client, login, officer)
    answer = login(officer)
    assert answer.headers["Location"] == "/auth/code"
    assert not _signed_in(client)  # the password alone opens nothing
    page = client.get("/auth/code").get_data(as_text=True)
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page
    _move_time(monkeypatch, 30)  # the next step: enrolment used the current one
    wrong = client.post("/auth/code", data={"code": "123456"})
    assert "This code is not valid" in wrong.get_data(as_text=True)
    assert not _signed_in(client)
    right = client.post("/auth/code", data={"code": pyotp.TOTP(secret).at(twofactor.clock())})
    assert right.status_code == 302
    assert _signed_in(client)
    last = _lines("login")[-1]
    assert (last.entity_id, last.changes) == (officer.id, {"second_factor": "totp"})
    assert len(_lines("second_factor_failed")) == 1


def test_a_code_is_refused_a_second_time(client, login, officer, monkeypatch):
    secret, _codes = enrol(client, login, officer)
    _move_time(monkeypatch, 60)
    code = pyotp.TOTP(secret).at(twofactor.clock())
    login(officer)
    assert client.post("/auth/code", data={"code": code}).status_code == 302
    client.post("/auth/logout")
    login(officer)
    replay = client.post("/auth/code", data={"code": code})
    assert replay.status_code == 200 and "already used" in replay.get_data(as_text=True)
    assert not _signed_in(client)
    # an earlier step's code, still inside the drift window, is refused too
    earlier = pyotp.TOTP(secret).at(twofactor.clock() - 30)
    assert client.post("/auth/code", data={"code": earlier}).status_code == 200
    # the next step's code passes
    _move_time(monkeypatch, 90)
    fresh = pyotp.TOTP(secret).at(twofactor.clock())
    assert client.post("/auth/code", data={"code": fresh}).status_code == 302


def test_a_recovery_code_works_once(client, login, officer):
    _secret, codes = enrol(client, login, officer)
    login(officer)
    answer = client.post("/auth/code", data={"code": codes[3].lower().replace("-", " ")})
    assert answer.status_code == 302 and _signed_in(client)
    assert _lines("recovery_code_used")[-1].changes == {"left": 9}
    client.post("/auth/logout")
    login(officer)
    assert client.post("/auth/code", data={"code": codes[3]}).status_code == 200
    assert not _signed_in(client)


def test_the_code_must_follow_the_password_within_five_minutes(client, login, officer, monkeypatch):
    secret, _codes = enrol(client, login, officer)
    login(officer)
    start = security.clock()
    monkeypatch.setattr(security, "clock", lambda: start + security.PENDING_SECONDS + 1)
    late = client.post("/auth/code", data={"code": pyotp.TOTP(secret).now()})
    assert late.headers["Location"] == "/auth/login"
    assert not _signed_in(client)


def test_the_code_page_without_a_password_sends_to_sign_in(client):
    answer = client.post("/auth/code", data={"code": "123456"})
    assert answer.headers["Location"] == "/auth/login"


# --- required for admins and managers -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "required"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        (1, True),
        (True, True),
        ("0", False),
        ("false", False),
        ("no", False),
        (None, False),
        ("", False),
    ],
)
def test_the_setting(app, value, required):
    app.config["REQUIRE_2FA"] = value
    assert twofactor.required_by_setting(app) is required


def test_required_by_default_in_production_only(app):
    app.config["REQUIRE_2FA"] = None
    app.config["ENV"] = "production"
    assert twofactor.required_by_setting(app)
    app.config["REQUIRE_2FA"] = "0"
    assert not twofactor.required_by_setting(app)


def test_a_manager_without_a_second_factor_reaches_only_the_enrolment(
    app, client, login, manager, officer, project, make_participant
):
    participant = make_participant(project)
    app.config["REQUIRE_2FA"] = "yes"
    login(manager)
    for path in (
        "/",
        "/participants/",
        f"/participants/{participant.id}",
        "/auth/password",
        "/account/tokens/",
        "/dashboard/",
    ):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"] == "/auth/two-factor", path
    assert client.post(f"/participants/{participant.id}/archive").headers["Location"] == (
        "/auth/two-factor"
    )
    assert client.get("/auth/two-factor").status_code == 200
    static = client.get("/static/style.css")
    assert static.status_code == 200
    static.close()
    assert client.post("/auth/language/fr").status_code == 302
    assert client.post("/auth/logout").headers["Location"] == "/auth/login"
    # an officer is not required to
    login(officer)
    assert client.get("/participants/").status_code == 200


def test_once_set_up_the_manager_goes_on_and_cannot_turn_it_off(app, client, login, manager):
    app.config["REQUIRE_2FA"] = "1"
    secret, _codes = enrol(client, login, manager)
    login(manager)
    client.post("/auth/code", data={"code": pyotp.TOTP(secret).at(twofactor.clock() + 30)})
    assert _signed_in(client)
    assert "cannot be turned off" in client.get("/auth/two-factor").get_data(as_text=True)
    client.post("/auth/two-factor/off", data={"code": "000000"})
    assert db.session.get(User, manager.id).has_second_factor


def test_someone_not_required_turns_it_off_with_a_code(client, login, officer, monkeypatch):
    secret, _codes = enrol(client, login, officer)
    login(officer)
    _move_time(monkeypatch, 30)
    client.post("/auth/code", data={"code": pyotp.TOTP(secret).at(twofactor.clock())})
    assert client.post("/auth/two-factor/off", data={"code": "999999"}).status_code == 302
    assert db.session.get(User, officer.id).has_second_factor
    _move_time(monkeypatch, 60)
    client.post("/auth/two-factor/off", data={"code": pyotp.TOTP(secret).at(twofactor.clock())})
    assert not db.session.get(User, officer.id).has_second_factor
    assert _signed_in(client)  # this browser stays signed in
    assert db.session.scalars(select(RecoveryCode)).all() == []


def test_api_tokens_are_not_affected(app, client, manager):
    app.config["REQUIRE_2FA"] = "1"
    _token, secret = tokens.create(manager, "sync", days=30)
    db.session.commit()
    answer = client.get("/api/v1/participants/", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200


# --- admin reset ----------------------------------------------------------------------


def test_an_administrator_resets_a_lost_second_factor(client, login, officer, make_user):
    secret, _codes = enrol(client, login, officer)
    login(officer)
    client.post("/auth/code", data={"code": pyotp.TOTP(secret).at(twofactor.clock() + 30)})
    assert _signed_in(client)
    admin = make_user(Role.ADMIN, [], email="admin@example.org")
    other = type(client)(client.application, client.response_wrapper, use_cookies=True)
    other.post("/auth/language/en")
    other.post("/auth/login", data={"email": admin.email, "password": PASSWORD})
    page = other.get(f"/admin/users/{officer.id}/edit").get_data(as_text=True)
    assert "Reset two-step sign-in" in page
    answer = other.post(f"/admin/users/{officer.id}/two-factor/reset")
    assert answer.status_code == 302
    user = db.session.get(User, officer.id)
    assert not user.has_second_factor and user.totp_secret is None
    assert not _signed_in(client)  # her sessions ended
    (line,) = _lines("second_factor_reset")
    assert (line.entity_id, line.actor_id, line.changes) == (officer.id, admin.id, {"by": "admin"})
    # she signs in with her password alone again, and may set it up anew
    assert login(officer).headers["Location"] == "/"


def test_only_administrators_reset(client, login, officer, manager):
    secret, _codes = enrol(client, login, officer)
    login(manager)
    assert client.post(f"/admin/users/{officer.id}/two-factor/reset").status_code == 403
    assert db.session.get(User, officer.id).has_second_factor


# --- limits ---------------------------------------------------------------------------


def test_wrong_codes_are_limited_per_account(client, login, officer):
    secret, _codes = enrol(client, login, officer)
    login(officer)
    for n in range(5):
        answer = client.post(
            "/auth/code", data={"code": "000000"}, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}
        )
        assert answer.status_code == 200
    refused = client.post(
        "/auth/code",
        data={"code": pyotp.TOTP(secret).at(twofactor.clock() + 30)},
        environ_base={"REMOTE_ADDR": "198.51.100.50"},
    )
    assert refused.status_code == 429
    assert not _signed_in(client)
