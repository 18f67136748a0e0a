"""Authentication and sessions (issue 6, part 2; security.md §6 A and B).

Password policy (A1), hashing (A2), sign-in limits (A3), no user enumeration
(A4), session rotation on sign-in (S2), password change ending the other
sessions (S4), idle and absolute timeouts (S5), cookie flags (S1).

Sign-in limits are on in this module (the shared test configuration turns them
off); the ``app`` fixture resets the limiter's storage after each test.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from tests.conftest import FAST_HASH, PASSWORD
from tracker import create_app, security
from tracker.auth import passwords
from tracker.config import Defaults
from tracker.extensions import db, limiter
from tracker.models import AuditEvent, Role, User

NEW_PASSWORD = "a river of dates in Tiznit"


@pytest.fixture
def app_config():
    """The sign-in limits as configured by default, on."""
    return {"RATELIMIT_ENABLED": True}


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English: the messages asserted below are the msgids."""
    client.post("/auth/language/en")


@pytest.fixture
def officer(make_user, project):
    return make_user(Role.OFFICER, [project], email="ana.lopez@example.org")


def attempt(client, email, password="wrong password here", addr="192.0.2.10"):
    return client.post(
        "/auth/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": addr},
    )


def signed_in(client) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/auth/login")
        return False
    assert response.status_code == 200
    return True


def audit_rows(action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- A1 password policy ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "refused"),
    [
        ("short1!", "at least 12 characters"),
        ("eleven char", "at least 12 characters"),
        ("password1234", "too common"),  # on the block list as it is
        ("Password123!", "too common"),  # a listed word with decoration
        ("qwertyuiop!!", "too common"),
        ("2024 tracker 2024", "too common"),  # the application's own name
        ("my ana.lopez secret", "name of the e-mail address"),
        ("MY ANA.LOPEZ SECRET", "name of the e-mail address"),
        ("x" * 129, "at most 128 characters"),
        ("twelve chars", None),
        ("a river of dates in Tiznit", None),
        ("lowercase passphrase " * 3 + "ok", None),  # 65 characters, no composition rule
        ("é" * 12, None),  # counted in characters, not bytes
    ],
)
def test_password_policy(app, password, refused):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        problem = passwords.problem(password, email="ana.lopez@example.org")
    if refused is None:
        assert problem is None
    else:
        assert problem is not None and refused in problem


def test_policy_limits_are_configurable(app):
    app.config["PASSWORD_MIN_LENGTH"] = 16
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert "at least 16 characters" in passwords.problem("fifteen letters", email="a@b.org")
        assert passwords.problem("sixteen letters!", email="a@b.org") is None


def test_block_list_is_the_shipped_top_20000():
    common = passwords.common_passwords()
    assert 19_000 < len(common) < 21_000
    assert {"password", "123456", "iloveyou", "azerty"} <= common
    assert all(word == word.lower() for word in common)


@pytest.mark.parametrize(
    ("setting", "value"), [("PASSWORD_MIN_LENGTH", 7), ("PASSWORD_MAX_LENGTH", 63)]
)
def test_weaker_password_settings_than_asvs_refuse_to_start(tmp_path, monkeypatch, setting, value):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(security.UnsafeConfiguration, match=setting):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", setting: value})


def test_no_truncation_and_no_case_folding(client, login, make_user):
    user = make_user(email="case@example.org")
    assert login(user, PASSWORD.upper()).status_code == 200
    assert login(user, PASSWORD[:-1]).status_code == 200
    assert login(user, PASSWORD + " ").status_code == 200
    assert not signed_in(client)
    assert login(user, PASSWORD).status_code == 302


def test_cli_create_user_applies_the_policy(runner):
    args = ["create-user", "ana.lopez@example.org", "--role", "admin", "--password-stdin"]
    common = runner.invoke(args=args, input="Password123!\n")
    assert common.exit_code == 1 and "too common" in common.output
    named = runner.invoke(args=args, input="ana.lopez in Rabat\n")
    assert named.exit_code == 1 and "name of the e-mail address" in named.output
    assert db.session.scalar(select(User).where(User.email == "ana.lopez@example.org")) is None
    assert runner.invoke(args=args, input="a river of dates\n").exit_code == 0


def test_admin_create_and_reset_apply_the_policy(client, login, make_user, project, officer):
    login(make_user(Role.ADMIN, email="admin@example.org"))
    data = {
        "email": "khadija@example.org",
        "name": "Khadija",
        "role": "officer",
        "project_ids": [str(project.id)],
        "password": "password1234",
        "confirm": "password1234",
    }
    page = client.post("/admin/users/new", data=data).get_data(as_text=True)
    assert 'id="password-error"' in page and "too common" in page
    data.update(password="khadija forever", confirm="khadija forever")
    page = client.post("/admin/users/new", data=data).get_data(as_text=True)
    assert "name of the e-mail address" in page
    assert db.session.scalar(select(User).where(User.email == "khadija@example.org")) is None
    reset = f"/admin/users/{officer.id}/password"
    page = client.post(reset, data={"password": "Ana.Lopez 2025", "confirm": "Ana.Lopez 2025"})
    assert "name of the e-mail address" in page.get_data(as_text=True)
    assert check_password_hash(officer.password_hash, PASSWORD)


def test_new_password_pages_state_the_rules(client, login, make_user, officer):
    login(make_user(Role.ADMIN, email="admin@example.org"))
    rules = "At least 12 characters, not a common password"
    assert rules in client.get("/admin/users/new").get_data(as_text=True)
    assert rules in client.get(f"/admin/users/{officer.id}/edit").get_data(as_text=True)
    assert rules in client.get("/auth/password").get_data(as_text=True)


# --- A2 hashing ------------------------------------------------------------------------


def test_hashes_use_pbkdf2_at_a_million_rounds_by_default(make_user):
    assert Defaults.PASSWORD_HASH_METHOD == "pbkdf2:sha256:1000000"
    # the tests run with fewer rounds; the configured method is the one used
    assert make_user().password_hash.startswith(FAST_HASH + "$")


def test_an_older_hash_is_upgraded_at_sign_in(login, officer):
    officer.password_hash = generate_password_hash(PASSWORD, method="scrypt")
    db.session.commit()
    version = officer.version
    assert login(officer).status_code == 302
    db.session.refresh(officer)
    assert officer.password_hash.startswith(FAST_HASH + "$")
    assert check_password_hash(officer.password_hash, PASSWORD)
    assert officer.version == version  # a sign-in is not an edit


# --- changing one's own password (S4) ----------------------------------------------------


def test_change_password_ends_the_other_sessions_and_keeps_this_one(app, client, login, officer):
    other = app.test_client()
    other.post("/auth/login", data={"email": officer.email, "password": PASSWORD})
    assert signed_in(other)
    login(officer)
    before = client.get_cookie("session").value
    data = {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = client.post("/auth/password", data=data)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Your password is changed. Your other sessions are ended." in page
    assert not signed_in(other)
    # this browser goes on, on a new session; its cookie from before is dead
    assert client.get_cookie("session").value != before
    replay = app.test_client()
    replay.set_cookie("session", before)
    assert not signed_in(replay)
    db.session.refresh(officer)
    assert check_password_hash(officer.password_hash, NEW_PASSWORD)
    again = other.post("/auth/login", data={"email": officer.email, "password": NEW_PASSWORD})
    assert again.status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            "current",
            "This is not your current password.",
        ),
        (
            {"current": PASSWORD, "password": "Password123!", "confirm": "Password123!"},
            "password",
            "too common",
        ),
        (
            {"current": PASSWORD, "password": "I am ana.lopez", "confirm": "I am ana.lopez"},
            "password",
            "name of the e-mail address",
        ),
        (
            {"current": PASSWORD, "password": PASSWORD, "confirm": PASSWORD},
            "password",
            "must differ from the current one",
        ),
        (
            {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"},
            "confirm",
            "The two passwords are not the same.",
        ),
    ],
)
def test_change_password_refusals(client, login, officer, data, field, message):
    login(officer)
    response = client.post("/auth/password", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    db.session.refresh(officer)
    assert check_password_hash(officer.password_hash, PASSWORD)
    assert signed_in(client)


def test_change_password_page_is_linked_from_every_page(client, login, officer):
    login(officer)
    assert 'href="/auth/password"' in client.get("/participants/").get_data(as_text=True)


# --- A3 sign-in limits -----------------------------------------------------------------


def test_sign_in_limits_are_on_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("TRACKER_RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("TRACKER_RATELIMIT_ENABLED", raising=False)
    real = create_app()  # the real configuration: defaults, instance file, environment
    assert real.config["RATELIMIT_ENABLED"] is True
    assert real.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert type(limiter.storage).__name__ == "MemoryStorage"
    assert real.config["LOGIN_LIMIT_PER_ACCOUNT"] == "5 per minute; 20 per hour"


def test_sixth_failed_sign_in_on_an_account_gets_429(client, login, officer, make_user):
    for n in range(5):
        # each from another address: only the account's count grows
        assert attempt(client, officer.email, addr=f"198.51.100.{n}").status_code == 200
    refused = attempt(client, officer.email, addr="198.51.100.99")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Too many attempts" in page and "try again in 1 minute" in page
    assert 0 < int(refused.headers["Retry-After"]) <= 61
    # the right password is refused too while the account is paused
    right = attempt(client, officer.email, PASSWORD, addr="198.51.100.100")
    assert right.status_code == 429
    assert not signed_in(client)
    # the e-mail is matched normalised: case and spaces do not reset the count
    assert attempt(client, "  ANA.Lopez@Example.org ", addr="198.51.100.101").status_code == 429
    # another account is not affected
    other = make_user(email="other@example.org")
    assert login(other).status_code == 302
    # three refusals of one account in one window: one audit line (see the next test)
    throttled = audit_rows("login_throttled")
    assert len(throttled) == 1
    assert all(officer.email not in str(row.changes) for row in throttled)
    assert throttled[0].changes["email_hash"] == audit_rows("login_failed")[0].changes["email_hash"]
    assert throttled[0].changes["limit"] == "sign-in-account"


def test_a_burst_of_refused_attempts_is_audited_once_per_account_and_address(client, officer):
    for n in range(5):
        attempt(client, officer.email, addr=f"198.51.100.{n}")
    for n in range(10):
        attempt(client, f"guess{n}@example.org", addr="203.0.113.5")
    before = len(audit_rows("login_failed"))
    for n in range(150):
        assert attempt(client, officer.email, addr=f"198.51.100.{n % 50}").status_code == 429
        assert attempt(client, f"x{n}@example.org", addr="203.0.113.5").status_code == 429
    # 300 refusals: one line for the account, one for the address, none failed (none checked)
    throttled = audit_rows("login_throttled")
    assert sorted(row.changes["limit"] for row in throttled) == [
        "sign-in-account",
        "sign-in-address",
    ]
    assert len(audit_rows("login_failed")) == before


def test_failed_sign_ins_from_one_address_are_limited_across_accounts(client, officer):
    for n in range(10):
        assert attempt(client, f"guess{n}@example.org", addr="203.0.113.5").status_code == 200
    assert attempt(client, "fresh@example.org", addr="203.0.113.5").status_code == 429
    assert attempt(client, officer.email, PASSWORD, addr="203.0.113.5").status_code == 429
    # the same account from another network signs in
    assert attempt(client, officer.email, PASSWORD, addr="203.0.113.6").status_code == 302


def test_successful_sign_ins_do_not_count(client, officer):
    for _ in range(12):
        assert attempt(client, officer.email, PASSWORD).status_code == 302
        client.post("/auth/logout")


def test_limits_are_configurable(app, client, officer):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per hour"
    assert attempt(client, officer.email).status_code == 200
    assert attempt(client, officer.email).status_code == 200
    assert attempt(client, officer.email).status_code == 429


def test_wrong_current_passwords_count_too(client, login, officer):
    login(officer)
    data = {"current": "guessing again", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    for _ in range(5):
        assert client.post("/auth/password", data=data).status_code == 200
    refused = client.post("/auth/password", data=data)
    assert refused.status_code == 429
    assert "Back to the home page" in refused.get_data(as_text=True)
    assert signed_in(client)  # paused, not signed out


def test_a_refused_new_password_is_not_counted(app, client, login, officer):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per hour"
    login(officer)
    data = {"current": PASSWORD, "password": "Password123!", "confirm": "Password123!"}
    for _ in range(4):
        # a typing matter, not a guess: the right current password was given
        assert client.post("/auth/password", data=data).status_code == 200


def _redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_is_up(), reason="no Redis server on 127.0.0.1:6379")
@pytest.mark.parametrize(
    "app_config",
    [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14"}],
)
def test_limits_are_kept_in_redis_when_configured(client, officer):
    import redis

    assert type(limiter.storage).__name__ == "RedisStorage"
    for _ in range(5):
        assert attempt(client, officer.email).status_code == 200
    assert attempt(client, officer.email).status_code == 429
    keys = [key.decode() for key in redis.Redis.from_url("redis://127.0.0.1:6379/14").keys("*")]
    assert any("sign-in-account" in key for key in keys)
    # the store holds a keyed hash of the e-mail, never the address itself
    assert not any("ana.lopez" in key for key in keys)


# --- A3 under concurrency: counted before the hash, no connection held, bounded -------------


def _at_once(app, count, send):
    """Send ``count`` requests from as many threads released together; return their answers."""
    barrier = threading.Barrier(count)
    answers = [None] * count

    def run(n):
        client = app.test_client()
        barrier.wait()
        answers[n] = send(client, n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.fixture
def slow_hash(monkeypatch):
    """Password checks that take a while (as the real million rounds do), counted."""
    from tracker.auth import services

    real = services.check_password_hash
    calls = []
    lock = threading.Lock()

    def slow(pwhash, password):
        with lock:
            calls.append(db.session().in_transaction())
        time.sleep(0.2)
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", slow)
    return calls


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "SIGN_IN_CONCURRENCY": 50}])
def test_concurrent_wrong_passwords_for_one_account_are_counted_before_the_hash(
    app, officer, slow_hash
):
    email = officer.email
    db.session.commit()
    answers = _at_once(app, 20, lambda client, n: attempt(client, email, addr=f"198.51.100.{n}"))
    statuses = sorted(answer.status_code for answer in answers)
    # the limit is 5 a minute: 5 evaluated, however many arrive together
    assert len(slow_hash) == 5
    assert statuses == [200] * 5 + [429] * 15
    assert all(0 < int(a.headers["Retry-After"]) <= 61 for a in answers if a.status_code == 429)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "SIGN_IN_CONCURRENCY": 50}])
def test_concurrent_guesses_from_one_address_are_counted_before_the_hash(app, slow_hash):
    answers = _at_once(
        app, 20, lambda client, n: attempt(client, f"guess{n}@example.org", addr="203.0.113.9")
    )
    assert len(slow_hash) == 10
    assert sorted(a.status_code for a in answers) == [200] * 10 + [429] * 10


def test_the_password_is_checked_without_holding_a_database_connection(app, officer, slow_hash):
    assert attempt(app.test_client(), officer.email, PASSWORD).status_code == 302
    assert attempt(app.test_client(), officer.email).status_code == 200
    assert attempt(app.test_client(), "nobody@example.org").status_code == 200
    # no transaction open (so no connection taken, no SQLite write lock) during any check
    assert slow_hash == [False, False, False]


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "SIGN_IN_CONCURRENCY": 1}])
def test_sign_ins_past_the_concurrency_cap_are_told_to_come_back(app, officer, monkeypatch):
    from tracker.auth import services

    real = services.check_password_hash
    started, release = threading.Event(), threading.Event()

    def held(pwhash, password):
        started.set()
        release.wait(10)
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", held)
    email = officer.email
    db.session.commit()
    first = []
    thread = threading.Thread(
        target=lambda: first.append(attempt(app.test_client(), email, PASSWORD))
    )
    thread.start()
    assert started.wait(10)
    second = app.test_client()
    second.post("/auth/language/en")
    busy = attempt(second, email, PASSWORD, addr="192.0.2.77")
    release.set()
    thread.join(10)
    assert busy.status_code == 503
    assert int(busy.headers["Retry-After"]) >= 1
    assert "Too many people are signing in" in busy.get_data(as_text=True)
    assert first[0].status_code == 302
    # a busy answer did not count as a failed attempt
    assert attempt(app.test_client(), email, PASSWORD, addr="192.0.2.77").status_code == 302


def test_the_sign_in_concurrency_cap_is_configured():
    assert Defaults.SIGN_IN_CONCURRENCY == 4


# --- A4 no user enumeration ------------------------------------------------------------


def test_unknown_wrong_and_deactivated_get_the_same_answer(client, make_user, officer):
    closed = make_user(email="closed@example.org")
    closed.active = False
    db.session.commit()
    cases = {
        "unknown": ("nobody@example.org", "some password"),
        "wrong": (officer.email, "not the password"),
        "deactivated": (closed.email, PASSWORD),
    }
    pages = {}
    for case, (email, password) in cases.items():
        response = attempt(client, email, password)
        assert response.status_code == 200, case
        page = response.get_data(as_text=True).replace(email, "EMAIL")
        # the CSRF token carries the second it was signed: not part of what is compared
        pages[case] = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)
    assert pages["unknown"] == pages["wrong"] == pages["deactivated"]
    assert "Unknown e-mail or wrong password." in pages["unknown"]
    # the audit tells them apart; an unknown address is kept only as a keyed hash
    rows = {row.changes["reason"]: row for row in audit_rows("login_failed")}
    assert set(rows) == {"unknown_account", "wrong_password", "deactivated"}
    unknown = rows["unknown_account"]
    assert unknown.entity_id is None
    assert "nobody" not in str(unknown.changes)
    assert re.fullmatch(r"[0-9a-f]{20}", unknown.changes["email_hash"])
    assert rows["wrong_password"].entity_id == officer.id
    assert rows["deactivated"].entity_id == closed.id


def test_every_sign_in_outcome_costs_one_password_check(client, make_user, officer, monkeypatch):
    from tracker.auth import services

    closed = make_user(email="closed@example.org")
    closed.active = False
    db.session.commit()
    checked = []
    real = services.check_password_hash

    def counting(pwhash, password):
        checked.append(pwhash.split("$")[0])
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", counting)
    for email, password in [
        ("nobody@example.org", "some password"),
        (officer.email, "not the password"),
        (closed.email, PASSWORD),
        (officer.email, PASSWORD),
    ]:
        checked.clear()
        attempt(client, email, password)
        # one check, with the same method (so the same cost) whoever the account is
        assert checked == [FAST_HASH], email


# --- S2 a fresh session at sign-in -------------------------------------------------------


def test_sign_in_starts_a_fresh_session(client, login, officer):
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
        planted["_user_id"] = "forged-token"
    before = client.get_cookie("session").value
    assert not signed_in(client)  # a forged token finds nobody
    login(officer)
    assert client.get_cookie("session").value != before
    with client.session_transaction() as fresh:
        assert "planted" not in fresh
        assert fresh["_user_id"] == officer.session_token
        assert fresh["lang"] == "en"  # the language chosen before signing in stays
        assert fresh[security.SIGNED_IN_AT] == fresh[security.SEEN_AT]


# --- S5 idle and absolute timeouts ----------------------------------------------------


def _age_session(client, *, idle: timedelta, since_sign_in: timedelta | None = None) -> None:
    """Move the session's clock back, as if time had passed (no sleeping)."""
    with client.session_transaction() as sess:
        now = security.clock()
        sess[security.SEEN_AT] = int(now - idle.total_seconds())
        if since_sign_in is not None:
            sess[security.SIGNED_IN_AT] = int(now - since_sign_in.total_seconds())


def test_idle_session_is_signed_out(client, login, officer):
    login(officer)
    _age_session(client, idle=timedelta(minutes=31))
    response = client.get("/participants/?q=x")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/login"
    assert parse_qs(location.query) == {"next": ["/participants/?q=x"]}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were signed out after 30 minutes without activity." in page
    assert not signed_in(client)
    (expired,) = audit_rows("session_expired")
    assert expired.entity_id == officer.id and expired.changes == {"reason": "idle"}


def test_activity_keeps_the_session_alive(client, login, officer):
    login(officer)
    _age_session(client, idle=timedelta(minutes=29))
    assert signed_in(client)
    with client.session_transaction() as sess:
        assert security.clock() - sess[security.SEEN_AT] < 60


def test_absolute_lifetime_ends_even_an_active_session(client, login, officer):
    login(officer)
    _age_session(client, idle=timedelta(0), since_sign_in=timedelta(hours=12, minutes=1))
    response = client.get("/")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session has reached its time limit." in page
    assert not signed_in(client)


def test_idle_timeout_is_configurable(app, client, login, officer):
    app.config["SESSION_IDLE_TIMEOUT"] = 300  # seconds, as TRACKER_SESSION_IDLE_TIMEOUT=300
    login(officer)
    _age_session(client, idle=timedelta(minutes=6))
    assert not signed_in(client)
    assert timedelta(minutes=30) == Defaults.SESSION_IDLE_TIMEOUT


def test_signed_in_session_without_timestamps_is_ended(client, login, officer):
    login(officer)
    with client.session_transaction() as sess:
        del sess[security.SEEN_AT]
    assert not signed_in(client)


# --- S1 cookie flags -------------------------------------------------------------------


def _session_cookie(response) -> str:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if "session=" in c]
    return cookie


def test_session_cookie_is_secure_over_https(client, officer):
    response = client.post(
        "/auth/login",
        data={"email": officer.email, "password": PASSWORD},
        base_url="https://localhost",
    )
    cookie = _session_cookie(response)
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain=" not in cookie
    assert "remember_token" not in str(response.headers)


def test_session_cookie_over_plain_http_in_development(client, officer):
    response = attempt(client, officer.email, PASSWORD)
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_production_cookie_is_always_secure_and_host_prefixed(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    app = create_app(
        {
            "ENV": "production",
            "SECRET_KEY": "a" * 16 + "production-grade-key-0123456789",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        db.create_all()
        from tracker.auth.services import create_user

        user = create_user("prod@example.org", PASSWORD, Role.ADMIN)
        db.session.commit()
        response = app.test_client().post(
            "/auth/login", data={"email": user.email, "password": PASSWORD}
        )
        db.session.remove()
        db.engine.dispose()
    cookie = _session_cookie(response)
    assert cookie.startswith("__Host-session=") and "Secure" in cookie


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "TRUSTED_PROXY_COUNT": 1}])
def test_behind_a_trusted_proxy_its_scheme_and_client_address_are_used(client, officer):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.77"}
    response = client.post(
        "/auth/login",
        data={"email": officer.email, "password": PASSWORD},
        headers=forwarded,
        environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy
    )
    assert "Secure" in _session_cookie(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    (event,) = audit_rows("login")
    assert event.remote_addr == "203.0.113.77"
    client.post("/auth/logout", headers=forwarded)
    # failures count against the client's address, not the proxy's
    for n in range(10):
        client.post(
            "/auth/login",
            data={"email": f"guess{n}@example.org", "password": "x"},
            headers=forwarded,
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
    other_client = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.78"}
    same = {"data": {"email": "guess@example.org", "password": "x"}}
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    blocked = client.post("/auth/login", headers=forwarded, environ_base=proxy, **same)
    assert blocked.status_code == 429
    again = client.post("/auth/login", headers=other_client, environ_base=proxy, **same)
    assert again.status_code == 200
