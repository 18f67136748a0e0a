"""DHIS2 aggregates: periods, the mapping file, the JSON and ADX documents, and the push.

The push is tested against a small HTTP server of the test's own, on 127.0.0.1 (never
an outside address), which checks what it receives and answers as DHIS2 does.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale
from lxml import etree
from sqlalchemy import select

from tracker import PROJECT_ROOT, indicators
from tracker.extensions import db
from tracker.interop import dhis2, push
from tracker.models import AuditEvent

EXAMPLE = PROJECT_ROOT / "docs" / "examples" / "dhis2-mapping.IDF-MA-2014.json"
ADX = "{urn:ihe:qrph:adx:2015}"

#: a mapping where each figure has a code of its own, so a document can be read back
MAPPING = {
    "project": "IDF-MA-2014",
    "orgUnit": "OU_RABAT",
    "dataSet": "DS_LIVELIHOODS",
    "attributeOptionCombo": "AOC_IDF",
    "categoryOptionCombos": {"total": "default", "F": "COC_F", "M": "COC_M"},
    "dataElements": {
        "trained": {"dataElement": "DE_TRAINED_SEX", "totalDataElement": "DE_TRAINED"},
        "placed": {"dataElement": "DE_PLACED_SEX", "totalDataElement": "DE_PLACED"},
        "institutions_strengthened": "DE_INSTITUTIONS",
    },
    "adx": {
        "sex": {"attribute": "SEX", "values": {"F": "FEMALE", "M": "MALE"}},
        "groupAttributes": {"FUNDING": "IDF"},
    },
}
SEX_CODES = {"COC_F": "F", "COC_M": "M", "FEMALE": "F", "MALE": "M"}
KEYS = {
    "DE_TRAINED": "trained",
    "DE_PLACED": "placed",
    "DE_INSTITUTIONS": "institutions_strengthened",
}


@pytest.fixture
def mapping_file(tmp_path):
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(MAPPING))
    return path


@pytest.fixture
def out_dir(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def expected(project, start: date, end: date) -> dict[tuple[str, str], int]:
    """{(indicator, "total"|"F"|"M"): figure} from the live indicator definitions."""
    scope = indicators.Scope((project.id,), start, end)
    found = {}
    for key in ("trained", "placed", "institutions_strengthened"):
        found[(key, "total")] = indicators.count(key, scope)
        if key != "institutions_strengthened":
            by_sex = dict(indicators.disaggregate(key, "sex", scope))
            for sex in ("F", "M"):
                found[(key, sex)] = by_sex.get(sex, 0)
    return found


def from_json(document: dict, period: str) -> dict[tuple[str, str], int]:
    found = {}
    for row in document["dataValues"]:
        assert set(row) == {
            "dataElement",
            "period",
            "orgUnit",
            "categoryOptionCombo",
            "attributeOptionCombo",
            "value",
        }
        assert (row["period"], row["orgUnit"], row["attributeOptionCombo"]) == (
            period,
            "OU_RABAT",
            "AOC_IDF",
        )
        combo = row["categoryOptionCombo"]
        if combo == "default":
            cell = (KEYS[row["dataElement"]], "total")
        else:
            cell = (KEYS[row["dataElement"].removesuffix("_SEX")], SEX_CODES[combo])
        assert cell not in found
        assert isinstance(row["value"], str)
        found[cell] = int(row["value"])
    return found


def from_adx(root, period: str) -> dict[tuple[str, str], int]:
    found = {}
    (group,) = root
    assert group.get("period") == period
    for value in group:
        assert value.tag == f"{ADX}dataValue"
        element = value.get("dataElement")
        if "SEX" in value.attrib:
            cell = (KEYS[element.removesuffix("_SEX")], SEX_CODES[value.get("SEX")])
        else:
            cell = (KEYS[element], "total")
        assert cell not in found
        found[cell] = int(value.get("value"))
    return found


# --- Periods -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "adx"),
    [
        ("2016Q4", date(2016, 10, 1), date(2016, 12, 31), "2016-10-01/P3M"),
        ("2016Q1", date(2016, 1, 1), date(2016, 3, 31), "2016-01-01/P3M"),
        ("2016S2", date(2016, 7, 1), date(2016, 12, 31), "2016-07-01/P6M"),
        ("2016S1", date(2016, 1, 1), date(2016, 6, 30), "2016-01-01/P6M"),
        ("2016", date(2016, 1, 1), date(2016, 12, 31), "2016-01-01/P1Y"),
        ("201612", date(2016, 12, 1), date(2016, 12, 31), "2016-12-01/P1M"),
        ("201602", date(2016, 2, 1), date(2016, 2, 29), "2016-02-01/P1M"),
        ("201502", date(2015, 2, 1), date(2015, 2, 28), "2015-02-01/P1M"),
    ],
)
def test_dhis2_periods(text, start, end, adx):
    period = dhis2.parse_period(text)
    assert (period.code, period.start, period.end, period.adx) == (text, start, end, adx)


@pytest.mark.parametrize(
    "text",
    [
        "2016Q5",
        "2016Q0",
        "2016S3",
        "201613",
        "201600",
        "16Q4",
        "2016-Q4",
        "2016q4",
        "",
        "٢٠١٦",
        "0000",
        "2016W1",
        "2016-12",
        "20161",
    ],
)
def test_periods_dhis2_does_not_write_are_refused(text):
    with pytest.raises(dhis2.PeriodError, match="not a DHIS2 period"):
        dhis2.parse_period(text)


# --- The mapping -------------------------------------------------------------------------------


def test_the_example_mapping_of_the_reference_programme_is_valid():
    mapping = dhis2.read_mapping(EXAMPLE.read_bytes())
    assert mapping.project == "IDF-MA-2014"
    assert {e.indicator for e in mapping.elements} == {
        "trained",
        "placed",
        "institutions_strengthened",
    }
    dhis2.check_for_adx(mapping)


def _with(**changes):
    data = json.loads(json.dumps(MAPPING))
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        target = data
        for key in path:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return data


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        (_with(orgUnit=KeyError), "orgUnit", "a code"),
        (_with(orgUnit="  "), "orgUnit", "a code"),
        (_with(orgunit="X"), "orgunit", "not a key of the mapping"),
        (_with(idScheme="name"), "idScheme", "code, uid"),
        (_with(dataElements={}), "dataElements", "at least one"),
        (_with(dataElements__nope="DE"), "dataElements.nope", "not an indicator"),
        (
            _with(dataElements__placement_rate="DE"),
            "dataElements.placement_rate",
            "not an indicator",
        ),
        (_with(dataElements__trained__dataElement=7), "dataElements.trained.dataElement", "a code"),
        (_with(dataElements__trained__bySex="yes"), "dataElements.trained.bySex", "true or false"),
        (
            _with(dataElements__institutions_strengthened={"dataElement": "X", "bySex": True}),
            "dataElements.institutions_strengthened.bySex",
            "no sex",
        ),
        (
            _with(dataElements__placed={"dataElement": "X", "total": False, "bySex": False}),
            "dataElements.placed",
            "sends nothing",
        ),
        (_with(dataElements__trained__colour="red"), "dataElements.trained.colour", "not a key"),
        (_with(categoryOptionCombos__F=KeyError), "categoryOptionCombos.F", "a code"),
        (_with(categoryOptionCombos__X="x"), "categoryOptionCombos.X", "not a key"),
        (_with(adx__sex__attribute="1SEX"), "adx.sex.attribute", "ADX attribute"),
        (_with(adx__sex__attribute="value"), "adx.sex.attribute", "ADX attribute"),
        (_with(adx__sex__values__M=KeyError), "adx.sex.values.M", "a code"),
        (_with(adx__groupAttributes__SEX="x"), "adx.sex.attribute", "already an attribute"),
        (_with(adx__groupAttributes={"bad name": "x"}), "adx.groupAttributes.bad name", "ADX"),
        ([], "", "a JSON object"),
    ],
)
def test_a_wrong_mapping_is_refused_naming_the_key(app, data, key, words):
    with force_locale("en"), pytest.raises(dhis2.MappingError) as raised:
        dhis2.load_mapping(data)
    assert raised.value.key == key
    assert words in str(raised.value)
    assert str(raised.value).startswith(f"{key}: " if key else "")


def test_a_mapping_that_is_not_json_says_where(app):
    # in French, as a page would show it; the command speaks English
    with pytest.raises(dhis2.MappingError, match=r"^dataElements\.nope: indicateur inconnu"):
        dhis2.load_mapping(_with(dataElements__nope="X"))
    with force_locale("en"), pytest.raises(dhis2.MappingError, match=r"line 2, column 1.*not JSON"):
        dhis2.read_mapping('{"orgUnit": "X",\n}')
    with force_locale("en"), pytest.raises(dhis2.MappingError, match="UTF-8"):
        dhis2.read_mapping(b"\xff\xfe{")


def test_adx_needs_a_data_set_and_the_sex_attribute(app):
    for data, key in ((_with(dataSet=KeyError), "dataSet"), (_with(adx={}), "adx.sex")):
        mapping = dhis2.load_mapping(data)
        with pytest.raises(dhis2.MappingError) as raised:
            dhis2.check_for_adx(mapping)
        assert raised.value.key == key


# --- The documents of the demo programme -------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2016Q4", date(2016, 10, 1), date(2016, 12, 31)),
        ("2015", date(2015, 1, 1), date(2015, 12, 31)),
        ("2015S1", date(2015, 1, 1), date(2015, 6, 30)),
    ],
)
def test_json_and_adx_carry_the_dashboard_figures(
    seeded, runner, mapping_file, out_dir, period, start, end
):
    figures = expected(seeded, start, end)
    json_out, adx_out = out_dir / "values.json", out_dir / "values.xml"
    for fmt, out in (("json", json_out), ("adx", adx_out)):
        result = runner.invoke(
            args=[
                "export", "dhis2", "--project", "IDF-MA-2014", "--period", period,
                "--format", fmt, "--mapping", str(mapping_file), "--out", str(out),
            ]
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert f"Wrote {out} (7 data values of IDF-MA-2014 for {period}, {fmt})." in result.output
    document = json.loads(json_out.read_text())
    assert document["dataSet"] == "DS_LIVELIHOODS"
    assert from_json(document, period) == figures
    root = etree.fromstring(adx_out.read_bytes())
    assert from_adx(root, dhis2.parse_period(period).adx) == figures
    if period == "2016Q4":
        # what the dashboard shows for 1 Oct - 31 Dec 2016
        assert figures[("placed", "total")] == 2 and figures[("trained", "total")] == 0
    if period == "2015":
        assert figures[("trained", "total")] > 50 and figures[("trained", "F")] > 50

    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
    ).all()
    assert [(e.entity, e.actor_label, e.changes["format"]) for e in events] == [
        ("dhis2", "cli:export", "json"),
        ("dhis2", "cli:export", "adx"),
    ]
    assert events[0].changes["period"] == period and events[0].changes["values"] == 7
    assert sorted(p.name for p in out_dir.iterdir()) == ["values.json", "values.xml"]


def test_the_adx_document_keeps_the_contract(seeded, runner, mapping_file, out_dir):
    out = out_dir / "values.xml"
    result = runner.invoke(
        args=[
            "export", "dhis2", "--project", "IDF-MA-2014", "--period", "2016Q4",
            "--format", "adx", "--mapping", str(mapping_file), "--out", str(out),
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = etree.fromstring(out.read_bytes())
    assert root.tag == f"{ADX}adx"
    assert root.nsmap == {None: "urn:ihe:qrph:adx:2015"}
    datetime.fromisoformat(root.get("exported"))  # an xs:dateTime
    (group,) = root
    assert group.tag == f"{ADX}group"
    assert dict(group.attrib) == {
        "orgUnit": "OU_RABAT",
        "period": "2016-10-01/P3M",
        "dataSet": "DS_LIVELIHOODS",
        "FUNDING": "IDF",
    }
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}/P\d+[MY]", group.get("period"))
    values = list(group)
    assert len(values) == 7  # trained and placed: total, F, M; institutions: total
    for value in values:
        assert value.tag == f"{ADX}dataValue"
        assert set(value.attrib) in ({"dataElement", "value"}, {"dataElement", "SEX", "value"})
        assert value.get("value").isdigit()
        assert value.get("SEX", "FEMALE") in ("FEMALE", "MALE")
    # the people figures by sex; institutions without
    assert {v.get("dataElement") for v in values if "SEX" in v.attrib} == {
        "DE_TRAINED_SEX",
        "DE_PLACED_SEX",
    }


def test_only_what_the_mapping_asks_is_sent(seeded, runner, tmp_path, out_dir):
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            {
                "orgUnit": "OU",
                "categoryOptionCombos": {"F": "F", "M": "M"},
                "dataElements": {"registered": {"dataElement": "REG", "total": False}},
            }
        )
    )
    out = out_dir / "v.json"
    result = runner.invoke(
        args=[
            "export", "dhis2", "--project", "IDF-MA-2014", "--period", "2014",
            "--mapping", str(path), "--out", str(out),
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert "dataSet" not in document
    scope = indicators.Scope((seeded.id,), date(2014, 1, 1), date(2014, 12, 31))
    by_sex = dict(indicators.disaggregate("registered", "sex", scope))
    assert [(r["categoryOptionCombo"], r["value"]) for r in document["dataValues"]] == [
        ("F", str(by_sex.get("F", 0))),
        ("M", str(by_sex.get("M", 0))),
    ]
    assert all("attributeOptionCombo" not in r for r in document["dataValues"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2016Q5"], "--period: '2016Q5' is not a DHIS2 period"),
        (["--period", "2013Q4"], "--period: 2013Q4 is outside the project IDF-MA-2014"),
        (["--period", "2016", "--project", "NOPE"], "unknown project 'NOPE'"),
        (["--period", "2016", "--mapping", "missing.json"], "--mapping: cannot read missing.json"),
        (["--period", "2016", "--push", "ftp://dhis2.example.org"], "--push: 'ftp://dhis2."),
        (
            ["--period", "2016", "--push", "http://dhis2.example.org"],
            "--push: credentials travel over https",
        ),
        (["--period", "2016", "--push", "https://dhis2.example.org"], "--push: no credentials"),
    ],
)
def test_command_errors(seeded, runner, mapping_file, out_dir, monkeypatch, args, message):
    for name in ("DHIS2_TOKEN", "DHIS2_USERNAME", "DHIS2_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    options = {"--project": "IDF-MA-2014", "--mapping": str(mapping_file)}
    rest = list(args)
    for option in ("--project", "--mapping"):
        if option in rest:
            options[option] = rest[rest.index(option) + 1]
            del rest[rest.index(option) : rest.index(option) + 2]
    flat = [part for pair in options.items() for part in pair]
    result = runner.invoke(args=["export", "dhis2", *flat, *rest, "--out", str(out_dir / "v.json")])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert not list(out_dir.iterdir())
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()


def test_a_mapping_of_another_project_or_a_wrong_one_is_refused(seeded, runner, tmp_path, out_dir):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({**MAPPING, "project": "OTHER-2020"}))
    args = [
        "export",
        "dhis2",
        "--project",
        "IDF-MA-2014",
        "--period",
        "2016",
        "--out",
        str(out_dir / "v.json"),
    ]
    result = runner.invoke(args=[*args, "--mapping", str(path)])
    assert result.exit_code == 1
    assert f"{path}: project: the mapping is for OTHER-2020, not IDF-MA-2014" in result.output
    path.write_text(json.dumps(_with(dataElements__trained__bySex="no")))
    result = runner.invoke(args=[*args, "--mapping", str(path)])
    assert f"{path}: dataElements.trained.bySex: true or false is expected." in result.output
    # ADX asks more of the mapping than JSON
    path.write_text(json.dumps(_with(dataSet=KeyError)))
    result = runner.invoke(args=[*args, "--mapping", str(path), "--format", "adx"])
    assert result.exit_code == 1 and f"{path}: dataSet: ADX needs the data set" in result.output
    # without --mapping: the instance folder's, named after the project
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "dhis2-mapping.IDF-MA-2014.json" in result.output
    assert not list(out_dir.iterdir())


def test_the_default_mapping_is_read_from_the_instance_folder(seeded, app, runner, out_dir):
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    (Path(app.instance_path) / "dhis2-mapping.IDF-MA-2014.json").write_bytes(EXAMPLE.read_bytes())
    out = out_dir / "v.json"
    result = runner.invoke(
        args=[
            "export",
            "dhis2",
            "--project",
            "IDF-MA-2014",
            "--period",
            "201612",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["dataSet"] == "IOM_LIVELIHOODS_QUARTERLY"


# --- The push ------------------------------------------------------------------------------------


def summary(imported=0, updated=0, ignored=0, conflicts=(), status="SUCCESS", wrapped=False):
    body = {
        "responseType": "ImportSummary",
        "status": status,
        "importCount": {"imported": imported, "updated": updated, "ignored": ignored, "deleted": 0},
        "conflicts": [{"object": o, "value": v} for o, v in conflicts],
    }
    if wrapped:  # DHIS2 2.38 and later
        return {"httpStatus": "OK", "httpStatusCode": 200, "status": "OK", "response": body}
    return body


class FakeDhis2:
    """An HTTP server on 127.0.0.1 that records each request and answers from a script."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers["Content-Length"])
                fake.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                status, answer = fake.answers.pop(0)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dhis"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def invoke_push(runner, mapping_file, out, url, fmt="json"):
    return runner.invoke(
        args=[
            "export", "dhis2", "--project", "IDF-MA-2014", "--period", "2016Q4",
            "--format", fmt, "--mapping", str(mapping_file), "--out", str(out), "--push", url,
        ]
    )  # fmt: skip


def test_push_runs_a_dry_run_then_imports(seeded, runner, mapping_file, out_dir, monkeypatch):
    monkeypatch.setenv("DHIS2_TOKEN", "d2p_secret")
    out = out_dir / "v.json"
    with FakeDhis2([(200, summary(imported=8)), (200, summary(imported=6, ignored=2))]) as fake:
        result = invoke_push(runner, mapping_file, out, fake.url)
    assert result.exit_code == 0, result.output
    assert "Dry run: SUCCESS; 8 imported, 0 updated, 0 ignored, 0 conflicts." in result.output
    assert "Import: SUCCESS; 6 imported, 0 updated, 2 ignored, 0 conflicts." in result.output
    assert "d2p_secret" not in result.output
    dry, real = fake.requests
    for request, flag in ((dry, "true"), (real, "false")):
        url = urlsplit(request["path"])
        assert url.path == "/dhis/api/dataValueSets"
        assert parse_qs(url.query) == {"dryRun": [flag], "idScheme": ["code"]}
        assert request["headers"]["Authorization"] == "ApiToken d2p_secret"
        assert request["headers"]["Content-Type"] == "application/json"
        # what was sent is the file written, and carries the dashboard's figures
        assert request["body"] == out.read_bytes()
    sent = from_json(json.loads(real["body"]), "2016Q4")
    assert sent == expected(seeded, date(2016, 10, 1), date(2016, 12, 31))
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
    ).all()
    assert len(events) == 2 and events[1].changes["pushed_to"].endswith("/dhis/api/dataValueSets")
    assert events[1].changes["imported"] == 6 and events[1].changes["dry_run_conflicts"] == 0


def test_push_of_adx_with_a_username_and_password(
    seeded, runner, mapping_file, out_dir, monkeypatch
):
    monkeypatch.delenv("DHIS2_TOKEN", raising=False)
    monkeypatch.setenv("DHIS2_USERNAME", "admin")
    monkeypatch.setenv("DHIS2_PASSWORD", "district")
    out = out_dir / "v.xml"
    answers = [(200, summary(imported=8, wrapped=True)), (200, summary(updated=8, wrapped=True))]
    with FakeDhis2(answers) as fake:
        result = invoke_push(runner, mapping_file, out, fake.url + "/", fmt="adx")
    assert result.exit_code == 0, result.output
    assert "Import: SUCCESS; 0 imported, 8 updated" in result.output
    for request in fake.requests:
        assert request["headers"]["Content-Type"] == "application/adx+xml"
        expected_auth = "Basic " + base64.b64encode(b"admin:district").decode()
        assert request["headers"]["Authorization"] == expected_auth
        assert etree.fromstring(request["body"]).tag == f"{ADX}adx"
        assert request["body"] == out.read_bytes()


@pytest.mark.parametrize("wrapped", [False, True])
def test_conflicts_in_the_dry_run_stop_the_import(
    seeded, runner, mapping_file, out_dir, monkeypatch, wrapped
):
    monkeypatch.setenv("DHIS2_TOKEN", "d2p_secret")
    conflicts = [("DE_PLACED", "Data element not found or not accessible")]
    # DHIS2 2.38+ answers 409 Conflict with the summary
    status = 409 if wrapped else 200
    answer = summary(imported=6, ignored=2, conflicts=conflicts, status="WARNING", wrapped=wrapped)
    with FakeDhis2([(status, answer)]) as fake:
        result = invoke_push(runner, mapping_file, out_dir / "v.json", fake.url)
    assert result.exit_code == 1
    assert len(fake.requests) == 1, "never for real after a conflict"
    assert parse_qs(urlsplit(fake.requests[0]["path"]).query)["dryRun"] == ["true"]
    assert "1 conflicts." in result.output
    assert "conflict: DE_PLACED: Data element not found or not accessible" in result.output
    assert "was not clean: nothing imported" in result.output
    (_file, pushed) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
    )
    assert pushed.changes["dry_run_conflicts"] == 1 and pushed.changes["imported"] == 0


def test_a_refused_or_unreadable_answer_is_an_error(
    seeded, runner, mapping_file, out_dir, monkeypatch
):
    monkeypatch.setenv("DHIS2_TOKEN", "wrong")
    with FakeDhis2([(401, {"httpStatus": "Unauthorized"})]) as fake:
        result = invoke_push(runner, mapping_file, out_dir / "v.json", fake.url)
    assert result.exit_code == 1 and "refused the credentials (HTTP 401)" in result.output
    with FakeDhis2([(200, {"something": "else"})]) as fake:
        result = invoke_push(runner, mapping_file, out_dir / "v.json", fake.url)
    assert result.exit_code == 1 and "not an import summary" in result.output
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
    ).all()
    assert [e.changes.get("error", "")[:30] for e in events if "pushed_to" in e.changes] == [
        "the server refused the credent",
        "the server's answer is not an ",
    ]


def test_addresses_and_credentials():
    assert push.endpoint("https://dhis2.example.org/") == (
        "https://dhis2.example.org/api/dataValueSets"
    )
    assert push.endpoint("https://example.org/hmis") == "https://example.org/hmis/api/dataValueSets"
    assert push.endpoint("http://localhost:8080").startswith("http://localhost:8080/api/")
    assert push.endpoint("http://[::1]:8080").startswith("http://[::1]:8080/api/")
    for url in ("http://10.0.0.1", "https://x.org/?a=1", "file:///etc/passwd", "dhis2.example.org"):
        with pytest.raises(push.PushError):
            push.endpoint(url)
    assert push.authorization(
        {"DHIS2_TOKEN": "t", "DHIS2_USERNAME": "u", "DHIS2_PASSWORD": "p"}
    ) == ("ApiToken t")
    with pytest.raises(push.PushError):
        push.authorization({"DHIS2_USERNAME": "u"})


def test_documents_are_pure_and_stable():
    mapping = dhis2.load_mapping(MAPPING)
    period = dhis2.parse_period("2016Q4")
    values = [dhis2.Value("DE_TRAINED", "total", 3), dhis2.Value("DE_TRAINED_SEX", "F", 3)]
    exported = datetime(2017, 1, 5, 9, 30, tzinfo=UTC)
    adx = dhis2.adx_document(mapping, period, values, exported=exported)
    assert adx == dhis2.adx_document(mapping, period, values, exported=exported)
    assert b'exported="2017-01-05T09:30:00+00:00"' in adx
    assert b'<dataValue dataElement="DE_TRAINED_SEX" SEX="FEMALE" value="3" />' in adx
    document = json.loads(dhis2.json_document(mapping, period, values))
    assert document["dataValues"][0] == {
        "dataElement": "DE_TRAINED",
        "period": "2016Q4",
        "orgUnit": "OU_RABAT",
        "categoryOptionCombo": "default",
        "attributeOptionCombo": "AOC_IDF",
        "value": "3",
    }
