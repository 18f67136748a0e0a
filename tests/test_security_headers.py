"""Headers, pages without inline code, production safety (issue 6, part 3; security.md W3, W4,
K1, L7 and finding 13).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.conftest import FAST_HASH, PASSWORD
from tracker import create_app, security
from tracker.extensions import db
from tracker.models import Role

CSP_DIRECTIVES = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
}
GOOD_KEY = "k3y-" + "0123456789abcdef" * 3


def assert_security_headers(response) -> None:
    headers = response.headers
    directives = {d.strip() for d in headers["Content-Security-Policy"].split(";")}
    assert directives == CSP_DIRECTIVES
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    # not "no-referrer": Flask-WTF refuses HTTPS form posts without a same-origin Referer
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.fixture
def manager(make_user, project):
    return make_user(Role.MANAGER, [project], email="manager@example.org")


# --- W3 headers on every response --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/auth/login", 200),
        ("/no/such/page", 404),
        ("/static/style.css", 200),
        ("/participants/", 302),  # anonymous: sent to sign in
    ],
)
def test_security_headers_on_anonymous_responses(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_security_headers(response)
    response.close()


def test_security_headers_on_signed_in_pages_and_redirects(client, login, manager):
    assert_security_headers(login(manager))
    for path in ("/", "/participants/", "/dashboard/", "/auth/password"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers
    secure = client.get("/auth/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# --- W4 no caching of personal data ------------------------------------------------------


def test_pages_are_never_stored_but_static_files_may_be(client, login, manager):
    login(manager)
    for path in ("/", "/participants/", "/dashboard/", "/exports/", "/auth/login"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    css = client.get("/static/style.css")
    assert "no-store" not in css.headers.get("Cache-Control", "")
    css.close()


# --- finding 13: HTTPS form posts pass Flask-WTF's Referer check --------------------------


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_https_form_post_with_a_same_origin_referer_passes_csrf(client, manager):
    page = client.get("/auth/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "email": manager.email, "password": PASSWORD}
    # what a browser sends under Referrer-Policy: same-origin
    signed_in = client.post(
        "/auth/login",
        data=data,
        base_url="https://localhost",
        headers={"Referer": "https://localhost/auth/login"},
    )
    assert signed_in.status_code == 302
    # what it would send under no-referrer: refused, which is why that policy is not used
    client.post(
        "/auth/logout",
        data={"csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/"},
    )
    refused = client.post("/auth/login", data=data, base_url="https://localhost")
    assert refused.status_code == 400


# --- CSP holds: no inline script, handler or style on any page a manager reaches ----------


class PageCheck(HTMLParser):
    """Collect the links of a page and whatever the CSP would block in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> inline event handler")
            elif name == "style":
                self.problems.append(f"<{tag} style=…> inline style")
            elif name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "script":
            src = attributes.get("src")
            if not src:
                self.problems.append("inline <script>")
            elif urlsplit(src).netloc:
                self.problems.append(f"<script src={src}> from another site")
        if tag == "style":
            self.problems.append("inline <style> element")
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


def crawl(app, client, starts=("/",), per_endpoint=3, most=400):
    """GET every page reachable by links from ``starts``, a few per endpoint; yield each."""
    adapter = app.url_map.bind("localhost")
    seen_urls, per = set(starts), Counter()
    queue = deque(starts)
    while queue and sum(per.values()) < most:
        url = queue.popleft()
        parts = urlsplit(url)
        try:
            endpoint, _args = adapter.match(parts.path, method="GET")
        except Exception:  # noqa: BLE001 - a link to nowhere shows as a 404 below
            endpoint = None
        if endpoint == "static" or per[endpoint] >= per_endpoint:
            continue
        per[endpoint] += 1
        response = client.get(url)
        yield url, endpoint, response
        if response.mimetype != "text/html":
            continue
        check = PageCheck()
        check.feed(response.get_data(as_text=True))
        for href in check.links:
            target = urlsplit(href)
            if target.scheme or target.netloc or not target.path.startswith("/"):
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link not in seen_urls:
                seen_urls.add(link)
                queue.append(link)


def check_pages(app, client, starts):
    """Crawl from ``starts``; return the HTML pages' endpoints and what the CSP would block."""
    visited, problems = set(), []
    for url, endpoint, response in crawl(app, client, starts):
        assert response.status_code in (200, 302), (url, response.status_code)
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store", url
        if response.mimetype == "text/html" and response.status_code == 200:
            visited.add(endpoint)
            check = PageCheck()
            check.feed(response.get_data(as_text=True))
            problems += [f"{url}: {problem}" for problem in check.problems]
    return visited, problems


def test_no_page_a_manager_reaches_has_inline_script_handler_or_style(
    app, client, seeded, make_user
):
    from tracker.reports.services import generate_donor_report

    # one generated report, so that its page is reachable too
    generate_donor_report(
        seeded, None, None, language="fr", narrative={}, by=None, actor_label="test", threshold=5
    )
    manager = make_user(Role.MANAGER, [seeded], email="manager@example.org")
    client.post("/auth/login", data={"email": manager.email, "password": PASSWORD})
    # the report builder's preview is behind a GET form (project and period): start there too
    visited, problems = check_pages(app, client, ("/", f"/reports/?project={seeded.id}"))
    assert problems == []
    # the crawl did reach the pages that matter, charts and case files included
    assert {
        "home.index",
        "dashboard.index",
        "dashboard.drill_down",
        "participants.index",
        "participants.detail",
        "trainings.index",
        "trainings.course",
        "placements.index",
        "partners.detail",
        "activities.detail",
        "builder.index",
        "builder.edit",
        "builder.report",
        "exports.index",
        "auth.change_password",
    } <= visited


def test_administration_pages_have_no_inline_script_handler_or_style(
    app, client, seeded, make_user
):
    make_user(Role.OFFICER, [seeded], email="officer@example.org")
    admin = make_user(Role.ADMIN, email="admin@example.org")
    client.post("/auth/login", data={"email": admin.email, "password": PASSWORD})
    visited, problems = check_pages(app, client, ("/admin/users/",))
    assert problems == []
    assert {"users.index", "users.new", "users.edit"} <= visited


def test_dashboard_charts_render_without_style_attributes(client, seeded, make_user):
    manager = make_user(Role.MANAGER, [seeded], email="manager@example.org")
    client.post("/auth/login", data={"email": manager.email, "password": PASSWORD})
    page = client.get("/dashboard/").get_data(as_text=True)
    assert page.count("<svg") >= 2
    assert "style=" not in page
    # the colours and the clip path survive as presentation attributes
    assert re.search(r'<rect [^>]*fill="rgb\(', page)
    assert 'clip-path="url(#funnel-clip)"' in page


# --- K1 production refuses an unsafe configuration ---------------------------------------


def production(tmp_path, **config):
    return {
        "ENV": "production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}",
        **config,
    }


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "no secret key is configured"),
        ("", "no secret key is configured"),
        ("dev", "well-known example value"),
        ("test-secret-key-not-for-production", "well-known example value"),
        ("short-but-random-1234", "fewer than 32 characters"),
        # the probe's two: long enough, but no secret
        (" " * 32, "too few different characters"),
        ("a" * 32, "too few different characters"),
        ("abcabc" * 6, "too few different characters"),
        ("\t \n" * 11, "too few different characters"),
    ],
)
def test_production_refuses_to_start_with_an_unsafe_secret_key(tmp_path, monkeypatch, key, message):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    config = production(tmp_path) if key is None else production(tmp_path, SECRET_KEY=key)
    with pytest.raises(security.UnsafeConfiguration, match=message) as refused:
        create_app(config)
    assert "TRACKER_SECRET_KEY" in str(refused.value)
    # and no development key was written in its place
    assert not (tmp_path / "secret_key").exists()


def test_random_keys_of_32_characters_are_accepted(tmp_path, monkeypatch):
    import secrets

    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    for _ in range(200):
        # the README's recipe, even at its shortest (32 hexadecimal digits)
        config = production(tmp_path, SECRET_KEY=secrets.token_hex(16))
        assert security.configuration_problems(create_app_config(config)) == []


def create_app_config(config):
    from flask import Flask

    app = Flask("probe")
    app.config.from_object("tracker.config.Defaults")
    app.config.update(config)
    return app


def test_production_is_recognised_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite'}")
    monkeypatch.setenv("TRACKER_ENV", "production")
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    with pytest.raises(security.UnsafeConfiguration, match="no secret key"):
        create_app()
    monkeypatch.setenv("TRACKER_SECRET_KEY", GOOD_KEY)
    app = create_app()
    assert security.is_production(app) and not app.debug
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_debug_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(security.UnsafeConfiguration, match="debug mode is on"):
        create_app(production(tmp_path, SECRET_KEY=GOOD_KEY, DEBUG=True))


def test_development_still_runs_on_a_generated_key(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'd.sqlite'}"})
    assert not security.is_production(app)
    assert len(app.config["SECRET_KEY"]) == 64
    assert app.config["SESSION_COOKIE_SECURE"] is None  # Secure on HTTPS requests only


# --- L7 no stack trace, no debugger --------------------------------------------------------


def test_an_unhandled_error_answers_the_500_page_without_a_trace(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    app = create_app(
        production(
            tmp_path, SECRET_KEY=GOOD_KEY, PASSWORD_HASH_METHOD=FAST_HASH, RATELIMIT_ENABLED=False
        )
    )

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail: Awa Diop, +212 600 000 000")

    client = app.test_client()
    with app.app_context():
        db.create_all()
        response = client.get("/boom", headers={"Accept-Language": "en"})
        console = client.get("/console")
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "Nothing was saved." in page
    for leak in ("Traceback", 'File "', "RuntimeError", "secret detail", "Awa Diop", "werkzeug"):
        assert leak not in page
    assert_security_headers(response)
    assert console.status_code == 404
