"""Arabic, right to left (issue 15): a complete catalogue, pages that flip, no string left
in English or French on any page of the crawl.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.conftest import PASSWORD
from tests.test_i18n import catalogue, source_messages
from tests.test_security_headers import crawl
from tracker.models import Role

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")
# names of products and formats, numbers and codes: the same in every language
SAME_IN_EVERY_LANGUAGE = re.compile(r"^[\d\s%–<>·:.,()/→-]*$|^(SHA-256|CSV|XLSX|PDF)$")


def ids_and_strings(message):
    ids = [message.id] if isinstance(message.id, str) else list(message.id)
    strings = [message.string] if isinstance(message.string, str) else list(message.string)
    return ids, strings


def test_the_arabic_catalogue_translates_every_string_of_the_source():
    ar = catalogue("ar")
    assert ar.num_plurals == 6  # zero, one, two, few, many, other
    translated = set()
    for message in ar:
        if not message.id:
            continue
        ids, strings = ids_and_strings(message)
        assert "fuzzy" not in message.flags, ids[0]
        assert len(strings) == (6 if len(ids) == 2 else 1), ids[0]
        assert all(s and s.strip() for s in strings), f"empty Arabic msgstr for {ids[0]!r}"
        translated.add(ids[0])
    missing = source_messages() - translated
    assert not missing, f"run tools/fill_catalogue.py ar /work/helpers/arabic-ar.json: {missing}"


def test_arabic_strings_keep_the_placeholders_of_their_source():
    broken = []
    for message in catalogue("ar"):
        if not message.id:
            continue
        ids, strings = ids_and_strings(message)
        expected = {tuple(sorted(PLACEHOLDER.findall(source))) for source in ids}
        broken += [s for s in strings if tuple(sorted(PLACEHOLDER.findall(s))) not in expected]
    assert not broken


def test_arabic_strings_are_in_arabic():
    """No msgstr left as a copy of the English: each holds Arabic letters (names aside)."""
    arabic = re.compile(r"[\u0600-\u06ff]")
    copies = []
    for message in catalogue("ar"):
        if not message.id:
            continue
        ids, strings = ids_and_strings(message)
        bare = PLACEHOLDER.sub("", ids[0]).strip()
        if SAME_IN_EVERY_LANGUAGE.match(bare):
            continue
        copies += [s for s in strings if not arabic.search(s)]
    assert not copies


# --- the pages ---------------------------------------------------------------------------


class PageText(HTMLParser):
    """The visible text of a page, and the text of labels kept in attributes.

    Left out: code, and elements marked as written in another language (the API
    reference is in English, marked lang="en" for screen readers).
    """

    SKIPPED = {"script", "style", "code", "pre"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    def __init__(self):
        super().__init__()
        self.html_attrs: dict[str, str | None] = {}
        self.texts: list[str] = []
        self.open: list[bool] = []  # for each open element: is its content skipped?

    @property
    def skipping(self) -> bool:
        return any(self.open)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.html_attrs = attributes
        elif tag not in self.VOID:
            other_language = attributes.get("lang") not in (None, "ar")
            self.open.append(tag in self.SKIPPED or other_language)
        if self.skipping:
            return
        for name in ("aria-label", "placeholder", "title", "alt"):
            if attributes.get(name):
                self.texts.append(attributes[name].strip())
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.texts.append((attributes.get("value") or "").strip())

    def handle_endtag(self, tag):
        if tag not in self.VOID and tag != "html" and self.open:
            self.open.pop()

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.texts.append(" ".join(data.split()))


def untranslated_patterns():
    """Regular expressions for the English msgids and French msgstrs of the catalogue.

    A short string (one or two words, such as "Edit") must not be a whole text of the
    page; a longer one must not appear anywhere in it. Placeholders match anything.
    """
    whole, anywhere = set(), set()
    for lang in ("fr", "en"):
        for message in catalogue(lang):
            if not message.id:
                continue
            ids, strings = ids_and_strings(message)
            for text in ids if lang == "en" else strings:
                if not text:
                    continue
                literal = PLACEHOLDER.sub("", text).strip()
                if SAME_IN_EVERY_LANGUAGE.match(literal) or not re.search(
                    r"[A-Za-zÀ-ÿ]{3}", literal
                ):
                    continue
                if PLACEHOLDER.search(text) and len(literal) < 12:
                    continue  # "%(a)s par %(b)s" would match any text holding "par"
                pattern = ".+?".join(
                    re.escape(" ".join(p.split())) for p in PLACEHOLDER.split(text)
                )
                if len(literal) >= 16 and " " in literal:
                    anywhere.add(pattern)
                else:
                    whole.add(pattern)
    return re.compile("^(?:" + "|".join(sorted(whole)) + ")$"), re.compile(
        "|".join(sorted(anywhere, key=len, reverse=True))
    )


def recorded_texts() -> set[str]:
    """Every text held in the database: what people typed is shown as typed."""
    from sqlalchemy import String, Text, select

    from tracker.extensions import db

    values = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text):
                for value in db.session.scalars(select(column).distinct()):
                    if value:
                        values.add(" ".join(str(value).split()))
    return values


def arabic_problems(app, client, starts):
    whole, anywhere = untranslated_patterns()
    recorded = recorded_texts()
    visited, problems = set(), []
    for url, endpoint, response in crawl(app, client, starts):
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        visited.add(endpoint)
        page = PageText()
        page.feed(response.get_data(as_text=True))
        if page.html_attrs.get("lang") != "ar" or page.html_attrs.get("dir") != "rtl":
            problems.append(f"{url}: <html {page.html_attrs}>")
        for text in page.texts:
            if text in recorded or text.removesuffix(" · tracker") in recorded:
                continue
            found = whole.match(text) or anywhere.search(text)
            if found:
                # a recorded text quoted inside a sentence (an activity's title in an audit
                # line) is shown as typed too: only what is left around it must be Arabic
                rest = text
                for value in sorted(recorded, key=len, reverse=True):
                    if len(value) >= 8 and value in rest:
                        rest = rest.replace(value, " ")
                found = whole.match(rest.strip()) or anywhere.search(rest)
            if found:
                problems.append(f"{url}: untranslated {found.group(0)!r}")
    return visited, problems


@pytest.fixture
def in_arabic(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ar"
    return client


def test_every_page_a_manager_reaches_is_in_arabic_right_to_left(app, in_arabic, seeded, make_user):
    from tracker.reports.services import generate_donor_report

    generate_donor_report(
        seeded, None, None, language="ar", narrative={}, by=None, actor_label="test", threshold=5
    )
    manager = make_user(Role.MANAGER, [seeded], email="manager@example.org")
    in_arabic.post("/auth/login", data={"email": manager.email, "password": PASSWORD})
    visited, problems = arabic_problems(
        app, in_arabic, ("/", f"/reports/?project={seeded.id}", "/api/v1/docs")
    )
    assert not problems, "\n".join(problems)
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


def test_every_administration_page_is_in_arabic(app, in_arabic, seeded, make_user):
    admin = make_user(Role.ADMIN, email="admin@example.org")
    in_arabic.post("/auth/login", data={"email": admin.email, "password": PASSWORD})
    visited, problems = arabic_problems(
        app, in_arabic, ("/admin/users/", "/jobs/maintenance", "/admin/projects/", "/admin/audit/")
    )
    assert not problems, "\n".join(problems)
    assert {
        "users.index",
        "users.new",
        "users.edit",
        "projects.index",
        "projects.targets",
        "auditlog.index",
        "jobs.maintenance",
    } <= visited


def test_the_untranslated_check_finds_english_and_french(app, client, seeded, make_user):
    """The check above can fail: the same crawl in French or English finds strings."""
    manager = make_user(Role.MANAGER, [seeded], email="manager@example.org")
    client.post("/auth/login", data={"email": manager.email, "password": PASSWORD})
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    _visited, problems = arabic_problems(app, client, ("/participants/",))
    assert any("untranslated 'Participants'" in p for p in problems)
    assert any("dir" in p and "'ltr'" in p for p in problems)


def test_the_language_comes_from_the_browser_then_from_the_switch(client):
    page = client.get("/auth/login", headers={"Accept-Language": "ar,fr;q=0.8"})
    text = page.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in text
    assert "تسجيل الدخول" in text
    # the switch on the sign-in page offers the three languages, the current one marked
    assert re.search(r'lang="ar"\s+aria-current="true">AR<', text)
    client.post("/auth/language/fr", data={"next": "/auth/login"})
    text = client.get("/auth/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in text
    client.post("/auth/language/ar", data={"next": "/auth/login"})
    text = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in text
