"""Browser tests: the app as people use it, in real Chromium, through a real server.

Run them alone (they are deselected from the default run by the ``e2e`` marker)::

    .venv/bin/python -m pytest -m e2e tests/e2e -q -p no:cacheprovider -n 0

One server process per session: ``flask db upgrade``, ``flask seed`` and
``flask create-user`` (one account per role) prepare a SQLite database in a
temporary instance folder, then ``flask run`` serves it on a free loopback port.
Playwright drives the system Chromium (``/usr/bin/chromium``, or ``$E2E_CHROMIUM``);
it never downloads a browser.

Pages are French, as the reference mission uses them. Tests name labels and
buttons by their English msgid through :func:`t`, which returns the French
translation from the compiled catalogue, so a reworded translation does not
break a test and a missing one shows up as a failure.

Screenshots of each journey's key pages go to ``$E2E_SCREENSHOTS`` (default: a
new temporary folder); the folder is printed at the end of the run.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from babel.support import Translations
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROJECT = "IDF-MA-2014"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# the server hashes with few rounds: the production 1,000,000 would cost a second a sign-in
FAST_HASH = "pbkdf2:sha256:1000"


@dataclass(frozen=True)
class Account:
    email: str
    role: str
    projects: tuple[str, ...]
    password: str = field(default_factory=lambda: "e2e " + secrets.token_urlsafe(12))


ACCOUNTS = {
    "officer": Account("officer@e2e.example.org", "officer", (PROJECT,)),
    "manager": Account("manager@e2e.example.org", "manager", (PROJECT,)),
    "viewer": Account("viewer@e2e.example.org", "viewer", (PROJECT,)),
    "admin": Account("admin@e2e.example.org", "admin", ()),
}

SHOTS_KEY = pytest.StashKey[Path]()


# --- French labels ----------------------------------------------------------------

_catalogue = Translations.load(str(ROOT / "tracker" / "translations"), ["fr"])


def t(msgid: str, **values) -> str:
    """Return the French text of ``msgid`` as the app shows it (Flask-Babel's rules)."""
    text = _catalogue.gettext(msgid)
    return text % values if values else text


def tn(singular: str, plural: str, num: int, **values) -> str:
    """Return the French text of a plural message, with ``num`` filled in."""
    return _catalogue.ngettext(singular, plural, num) % {"num": num, **values}


# --- markers and the end-of-run summary -----------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test of this folder ``e2e``, so the default run leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    folder = config.stash.get(SHOTS_KEY, None)
    if folder is not None:
        count = len(list(folder.rglob("*.png")))
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{count} screenshots in {folder}")


# --- the server ---------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    instance: Path
    log: Path
    process: subprocess.Popen

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(instance: Path) -> dict[str, str]:
    env = dict(os.environ)
    # always a throwaway SQLite database, whatever the developer's shell points at
    for name in ("DATABASE_URL", "TRACKER_DATABASE_URL", "FLASK_APP", "FLASK_DEBUG"):
        env.pop(name, None)
    env.update(
        TRACKER_INSTANCE_PATH=str(instance),
        TRACKER_SECRET_KEY=secrets.token_hex(32),
        TRACKER_PASSWORD_HASH_METHOD=FAST_HASH,
        PYTHONUNBUFFERED="1",
    )
    return env


def _flask(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    command = [sys.executable, "-m", "flask", "--app", "tracker", *args]
    done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        pytest.fail(f"`flask {' '.join(args)}` failed:\n{done.stdout}\n{done.stderr}")


def _wait_until_up(server: LiveServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"the server stopped (exit {server.process.returncode}):\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(server.url + "/auth/login", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer within {timeout:.0f} s:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """Serve the demo programme, with one account per role, from a fresh SQLite database."""
    instance = tmp_path_factory.mktemp("instance")
    env = _server_env(instance)
    _flask(env, "db", "upgrade")
    _flask(env, "seed")
    for account in ACCOUNTS.values():
        projects = [arg for code in account.projects for arg in ("--project", code)]
        _flask(
            env,
            "create-user",
            account.email,
            "--role",
            account.role,
            *projects,
            "--name",
            f"E2E {account.role}",
            "--password-stdin",
            stdin=account.password + "\n",
        )
    port = _free_port()
    log = instance / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "tracker",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-reload",
                "--no-debugger",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", instance, log, process)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the browser --------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install it (apt-get install -y chromium) "
            "or name it in E2E_CHROMIUM"
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def screenshots_dir(pytestconfig) -> Path:
    """The folder the screenshots go to, printed at the end of the run."""
    chosen = os.environ.get("E2E_SCREENSHOTS")
    if chosen:
        folder = Path(chosen)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="tracker-e2e-screenshots-"))
    pytestconfig.stash[SHOTS_KEY] = folder
    return folder


class BrowserTrouble:
    """What went wrong underneath the pages: server errors, failed assets, script errors."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def watch(self, page: Page) -> None:
        def on_response(response) -> None:
            kind = response.request.resource_type
            if response.status >= 500 or (response.status >= 400 and kind != "document"):
                self.problems.append(f"{response.status} {kind} {response.url}")

        def on_console(message) -> None:
            # a refused page (403/404) is reported by Chromium as a console error too;
            # statuses are checked above, so only other console errors count here
            if message.type == "error" and "Failed to load resource" not in message.text:
                self.problems.append(f"console error on {page.url}: {message.text}")

        page.on("response", on_response)
        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))


@pytest.fixture
def open_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    """Return a function that opens a page in a fresh browser context (French, no cookies).

    ``open_page(viewport=PHONE)`` gives a phone-sized one. Each test may open
    several (an officer and a manager side by side). Any server error, failed
    asset or script error seen by any of them fails the test.
    """
    contexts = []
    trouble = BrowserTrouble()

    def open_(viewport: dict[str, int] | None = None) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            locale="fr-FR",
            viewport=viewport or DESKTOP,
            extra_http_headers={"Accept-Language": "fr-FR,fr;q=0.9"},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        trouble.watch(page)
        return page

    yield open_
    for context in contexts:
        context.close()
    if trouble.problems:
        listed = "\n".join(trouble.problems)
        pytest.fail(
            f"the browser saw problems (server log: {live_server.log}):\n{listed}", pytrace=False
        )


@pytest.fixture
def page(open_page, request) -> Page:
    """A desktop-sized French page; ``@pytest.mark.viewport(w, h)`` changes its size."""
    marker = request.node.get_closest_marker("viewport")
    viewport = {"width": marker.args[0], "height": marker.args[1]} if marker else DESKTOP
    return open_page(viewport)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "viewport(width, height): size of the `page` fixture")


# --- helpers the journeys share ----------------------------------------------------------


def sign_in(page: Page, role: str) -> Account:
    """Sign in through the form as the session's account for ``role``."""
    account = ACCOUNTS[role]
    page.goto("/auth/login")
    page.get_by_label(t("E-mail")).fill(account.email)
    page.get_by_label(t("Password")).fill(account.password)
    page.get_by_role("button", name=t("Sign in")).click()
    # the menu on a wide screen, its "Menu" disclosure on a phone
    menu_or_toggle = page.get_by_role("navigation", name=t("Main menu")).or_(
        page.locator("header details.header-narrow > summary")
    )
    expect(menu_or_toggle.first).to_be_visible()
    # the new page's stylesheet applied: until then a phone shows both menus (CI flake)
    page.wait_for_load_state("load")
    return account


def main_menu(page: Page) -> Locator:
    """Return the main menu shown, opening its "Menu" disclosure first on a phone."""
    toggle = page.locator("header details.header-narrow")
    if toggle.is_visible() and toggle.get_attribute("open") is None:
        toggle.locator("summary").click()
    return page.get_by_role("navigation", name=t("Main menu"))


@pytest.fixture
def screenshot(screenshots_dir: Path, request) -> Callable[[Page, str], Path]:
    """Return ``screenshot(page, name)``: save the whole page as a numbered PNG."""
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    folder = screenshots_dir / test_name
    taken = []

    def take(page: Page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{len(taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    return take


# Run in the page: what a person with a screen reader or a phone would trip over.
_PAGE_BASICS = """
() => {
  const problems = [];
  const html = document.documentElement;
  if (!html.getAttribute('lang')) problems.push('<html> has no lang attribute');
  if (!document.title.trim()) problems.push('the page has no <title>');
  const h1 = document.querySelectorAll('h1');
  if (h1.length !== 1) problems.push(`${h1.length} <h1> on the page, expected exactly one`);
  let previous = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const level = Number(h.tagName[1]);
    if (previous && level > previous + 1) {
      problems.push(`heading <${h.tagName.toLowerCase()}> "${h.textContent.trim()}" skips a level`);
    }
    previous = level;
  }
  const describe = (el) => {
    const name = el.getAttribute('name') || el.id || '';
    return `<${el.tagName.toLowerCase()} type=${el.type || ''} name=${name}>`;
  };
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const labelled = (el.labels && Array.from(el.labels).some((l) => l.textContent.trim()))
      || (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').trim();
    if (!labelled) problems.push(`${describe(el)} has no label`);
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    const name = (el.textContent || '').trim() || el.getAttribute('aria-label')
      || el.getAttribute('title');
    if (!name) problems.push(`<${el.tagName.toLowerCase()}> without an accessible name`);
  }
  const wide = html.scrollWidth;
  if (wide > window.innerWidth) {
    problems.push(`the page scrolls sideways: ${wide} px wide in a ${window.innerWidth} px window`);
  }
  return problems;
}
"""


def page_problems(page: Page) -> list[str]:
    """Return the accessibility and layout problems of the page shown."""
    return page.evaluate(_PAGE_BASICS)


def check_page(page: Page, screenshot: Callable[[Page, str], Path], name: str) -> None:
    """Screenshot the page, then fail if it has accessibility or layout problems."""
    page.wait_for_load_state("load")
    path = screenshot(page, name)
    problems = page_problems(page)
    assert not problems, f"{name} ({page.url}, {path}):\n" + "\n".join(problems)
