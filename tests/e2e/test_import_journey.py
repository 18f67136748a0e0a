"""A manager imports a spreadsheet brought back from the field: bad rows first, then fixed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import PROJECT, check_page, main_menu, sign_in, t, tn

pytestmark = pytest.mark.e2e

HEADER = (
    "code;given_name;family_name;sex;date_of_birth;nationality;region;city;phone;email;"
    "migration_status;education_level;languages;consent_given;consent_date;project_code;"
    "registered_on"
)
GOOD_ROWS = [
    ";Ndèye Coumba;Sarr;Femme;14/02/1993;Sénégal;Casablanca-Settat;Casablanca;;;;;fr;oui;"
    f"03/02/2016;{PROJECT};03/02/2016",
    f";Rokia;Dembélé;F;1989;Mali;;;;;;;;yes;2016-02-03;{PROJECT};2016-02-03",
]
BAD_ROWS = [
    # no family name, and a birth date that does not exist
    f";Awa;;F;30/02/1991;CIV;;;;;;;;oui;03/02/2016;{PROJECT};03/02/2016",
    # no consent
    f";Salimata;Koné;F;;Côte d'Ivoire;;;;;;;;non;03/02/2016;{PROJECT};03/02/2016",
]
FIXED_ROWS = [
    f";Awa;Bamba;F;28/02/1991;CIV;;;;;;;;oui;03/02/2016;{PROJECT};03/02/2016",
]


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8-sig")
    return path


def upload(page: Page, path: Path) -> None:
    page.get_by_label(re.compile(re.escape(t("CSV or XLSX file")))).set_input_files(str(path))
    page.get_by_role("button", name=t("Check the file")).click()


def test_manager_reads_the_errors_fixes_the_file_and_imports_it(page, screenshot, tmp_path):
    sign_in(page, "manager")
    main_menu(page).get_by_role("link", name=t("Import")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Import a spreadsheet"))
    check_page(page, screenshot, "import-form")

    upload(page, write(tmp_path / "terrain.csv", GOOD_ROWS + BAD_ROWS))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Check of %(file)s", file="terrain.csv")
    )
    problems = page.get_by_role("table").first
    # the rows as the spreadsheet numbers them: header 1, so the bad ones are 4 and 5
    expect(problems.get_by_role("row").filter(has_text="family_name")).to_contain_text("4")
    expect(problems.get_by_role("row").filter(has_text="date_of_birth")).to_contain_text(
        t("is not a real date")
    )
    expect(problems.get_by_role("row").filter(has_text="consent_given")).to_contain_text("5")
    expect(
        page.get_by_role(
            "button",
            name=tn("Import the %(num)d valid row only", "Import the %(num)d valid rows only", 2),
        )
    ).to_be_visible()
    check_page(page, screenshot, "import-check-with-errors")

    # she fixes the file rather than importing half of it
    page.get_by_role("link", name=t("Upload a corrected file")).click()
    upload(page, write(tmp_path / "terrain-corrige.csv", GOOD_ROWS + FIXED_ROWS))
    expect(page.locator("main")).to_contain_text(
        tn("The %(num)d row is valid.", "All %(num)d rows are valid.", 3)
    )
    check_page(page, screenshot, "import-check-clean")
    page.get_by_role("button", name=tn("Import %(num)d row", "Import %(num)d rows", 3)).click()

    # the writing is a job: its page follows it, then lands on the people just imported
    expect(page.locator("#import-batch")).to_contain_text("terrain-corrige.csv", timeout=30_000)
    expect(page.locator("main p.flash.success")).to_contain_text(
        tn(
            "%(num)d row imported from %(file)s.",
            "%(num)d rows imported from %(file)s.",
            3,
            file="terrain-corrige.csv",
        )
    )
    expect(page.locator("main p.count")).to_have_text(
        tn("%(num)d participant", "%(num)d participants", 3)
    )
    for name in ("Sarr", "Dembélé", "Bamba"):
        expect(page.locator("main table")).to_contain_text(name)
    check_page(page, screenshot, "participants-after-import")
