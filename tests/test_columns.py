"""The spreadsheet columns: one documented place, the same as the seed files' headers."""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from tracker import columns
from tracker.columns import ALL_TABLES, TABLES, Column
from tracker.models import ContractType, Participant, Sex
from tracker.seed import SEED_DIR

HXL_TAG = re.compile(r"#[a-z][a-z0-9_]*(\+[a-z][a-z0-9_]*)*")


def seed_header(name: str) -> list[str]:
    with (SEED_DIR / name).open(newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh))


@pytest.mark.parametrize("key", [k for k, t in TABLES.items() if t.seed_file])
def test_columns_are_the_seed_files_headers(key):
    table = TABLES[key]
    assert table.names == seed_header(table.seed_file)


def test_participant_columns_are_the_import_columns_plus_languages_and_other_name():
    issue_5 = [
        "code",
        "given_name",
        "family_name",
        "sex",
        "date_of_birth",
        "nationality",
        "region",
        "city",
        "phone",
        "email",
        "migration_status",
        "education_level",
        "consent_given",
        "consent_date",
        "project_code",
        "registered_on",
    ]
    names = columns.PARTICIPANTS.names
    assert [n for n in names if n not in ("languages", "other_name")] == issue_5
    # the name in the other script, optional, right after the family name
    assert names.index("other_name") == names.index("family_name") + 1
    assert not columns.PARTICIPANTS.column("other_name").required


@pytest.mark.parametrize("table", ALL_TABLES.values(), ids=lambda t: t.key)
def test_every_column_is_documented_and_tagged(table):
    assert len(set(table.names)) == len(table.names)
    for column in table.columns:
        assert HXL_TAG.fullmatch(column.hxl), column.hxl
        assert str(column.description).strip()
        assert column.format_text()
        if column.kind == columns.CHOICE:
            assert column.choices is not None


def test_personal_columns_are_the_ones_a_pseudonymous_export_drops():
    personal = {c.name for c in columns.PARTICIPANTS.columns if c.personal}
    assert personal == {
        "given_name",
        "family_name",
        "other_name",
        "date_of_birth",
        "city",
        "phone",
        "email",
        "languages",
    }
    # every personal field of the model that is exported is marked personal
    exported = set(columns.PARTICIPANTS.names)
    assert set(Participant.PERSONAL_FIELDS) & exported <= personal
    assert columns.PLACEMENTS.column("business_name").personal
    assert columns.FOLLOW_UPS.column("note").personal
    assert not any("sensitive" in name for table in ALL_TABLES.values() for name in table.names)
    kept = [c.name for c in columns.PARTICIPANTS.visible(pseudonymous=True)]
    assert kept[0] == "code" and not set(kept) & personal


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, None),
        ("", None),
        (date(2015, 3, 7), "2015-03-07"),
        (datetime(2015, 3, 7, 10, 30), "2015-03-07"),
        (True, "yes"),
        (False, "no"),
        (Sex.FEMALE, "F"),
        (ContractType.FIXED_TERM, "fixed_term"),
        (Decimal("2150.00"), 2150),
        (Decimal("2150.50"), Decimal("2150.5")),
        (70, 70),
        ("Rabat", "Rabat"),
    ],
)
def test_to_cell(value, cell):
    converted = Column("x", "#x", "x").to_cell(value)
    assert converted == cell
    assert type(converted) is type(cell)


def test_docs_are_generated_from_the_module():
    """docs/columns.md is up to date: regenerate it with ``python -m tracker.columns``."""
    assert columns.DOCS_PATH.read_text(encoding="utf-8") == columns.render_markdown()


def test_docs_are_in_english_even_inside_a_french_request(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert columns.render_markdown() == columns.DOCS_PATH.read_text(encoding="utf-8")
    text = columns.render_markdown()
    for table in ALL_TABLES.values():
        assert f"(`{table.key}`)" in text
        for column in table.columns:
            assert f"| `{column.name}` | `{column.hxl}` |" in text
