"""DHIS2 aggregates: periods, the mapping of codes, and the documents (pure: no database).

A DHIS2 instance knows the tracker's figures as *data values*: a data element,
an organisation unit, a period, a category option combo (here: the total, or
one sex) and optionally an attribute option combo (e.g. the funding source).
The codes come from a mapping file the programme manager keeps for each project
(``load_mapping``; its format is in docs/interop.md). Two documents carry the
values: a ``dataValueSets`` JSON document and an ADX XML document (IHE QRPH ADX,
namespace ``urn:ihe:qrph:adx:2015``), both accepted by ``POST /api/dataValueSets``.
"""

from __future__ import annotations

import calendar
import json
import re
import xml.etree.ElementTree as ET  # noqa: S405 (writes XML, never parses any)
from collections.abc import Mapping as MappingType
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from tracker import indicators
from tracker.interop.figures import Figure, about_people

JSON, ADX = "json", "adx"
FORMATS = (JSON, ADX)
ADX_NAMESPACE = "urn:ihe:qrph:adx:2015"
MEDIA_TYPES = {JSON: "application/json", ADX: "application/adx+xml"}
SEXES = ("F", "M")
TOTAL = "total"
ID_SCHEMES = ("code", "uid")


class PeriodError(ValueError):
    """A period that is not a DHIS2 period the tracker can fill."""


@dataclass(frozen=True)
class Dhis2Period:
    """A DHIS2 period: its code (``2016Q4``), its days and its ADX form."""

    code: str
    start: date
    end: date
    #: ISO 8601 duration: P1Y, P6M, P3M, P1M
    duration: str

    @property
    def adx(self) -> str:
        """Return the period as ADX writes it: first day / duration (``2016-10-01/P3M``)."""
        return f"{self.start.isoformat()}/{self.duration}"


_PERIOD = re.compile(r"(?P<year>[0-9]{4})(?:Q(?P<q>[1-4])|S(?P<s>[12])|(?P<m>0[1-9]|1[0-2]))?")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_period(text: str) -> Dhis2Period:
    """Return the DHIS2 period written ``text``: ``2016``, ``2016S2``, ``2016Q4`` or ``201612``."""
    match = _PERIOD.fullmatch(text.strip()) if text.isascii() else None
    if match is None or int(match["year"]) < 1:
        raise PeriodError(
            _(
                "%(value)s is not a DHIS2 period: give a year (2016), a half-year (2016S2), a "
                "quarter (2016Q4) or a month (201612).",
                value=repr(text),
            )
        )
    year = int(match["year"])
    code = text.strip()
    if match["q"]:
        first = (int(match["q"]) - 1) * 3 + 1
        return Dhis2Period(code, date(year, first, 1), _month_end(year, first + 2), "P3M")
    if match["s"]:
        first = (int(match["s"]) - 1) * 6 + 1
        return Dhis2Period(code, date(year, first, 1), _month_end(year, first + 5), "P6M")
    if match["m"]:
        month = int(match["m"])
        return Dhis2Period(code, date(year, month, 1), _month_end(year, month), "P1M")
    return Dhis2Period(code, date(year, 1, 1), date(year, 12, 31), "P1Y")


# --- The mapping ----------------------------------------------------------------------------


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the key at fault."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class ElementMapping:
    """Where one indicator goes: its data element, and which of its figures are sent."""

    indicator: str
    data_element: str
    total: bool
    total_data_element: str
    by_sex: bool


@dataclass(frozen=True)
class Mapping:
    org_unit: str
    elements: tuple[ElementMapping, ...]
    #: "total", "F", "M" -> category option combo
    category_option_combos: dict[str, str]
    project: str | None = None
    data_set: str | None = None
    attribute_option_combo: str | None = None
    id_scheme: str = "code"
    #: ADX: the attribute that carries the sex, and its value for each sex
    adx_sex_attribute: str | None = None
    adx_sex_values: dict[str, str] | None = None
    #: ADX: attributes of the group (the attribute option combo's categories)
    adx_group_attributes: dict[str, str] | None = None


TOP_KEYS = (
    "project",
    "orgUnit",
    "dataSet",
    "idScheme",
    "attributeOptionCombo",
    "categoryOptionCombos",
    "dataElements",
    "adx",
)
ELEMENT_KEYS = ("dataElement", "total", "totalDataElement", "bySex")
#: an XML attribute name, and not one ADX itself uses
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_ADX_RESERVED = {"orgUnit", "period", "dataSet", "dataElement", "value", "exported"}


def _check_keys(data: MappingType, allowed: Sequence[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            raise MappingError(
                f"{where}{key}",
                _("not a key of the mapping (expected: %(keys)s).", keys=", ".join(allowed)),
            )


def _object(data: Any, key: str) -> MappingType:
    if not isinstance(data, dict):
        raise MappingError(key, _("a JSON object is expected."))
    return data


def _code(data: MappingType, key: str, where: str = "", *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{where}{key}", _("a code (a text that is not empty) is required."))
    return value.strip()


def _flag(data: MappingType, key: str, where: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise MappingError(f"{where}{key}", _("true or false is expected."))
    return value


def _attribute_name(value: Any, key: str) -> str:
    if not isinstance(value, str) or not _XML_NAME.fullmatch(value) or value in _ADX_RESERVED:
        raise MappingError(
            key,
            _(
                "%(value)s cannot be an ADX attribute: letters, digits, _ . - (not first), and "
                "none of %(reserved)s.",
                value=repr(value),
                reserved=", ".join(sorted(_ADX_RESERVED)),
            ),
        )
    return value


def _elements(data: Any) -> tuple[ElementMapping, ...]:
    elements = _object(data, "dataElements")
    if not elements:
        raise MappingError("dataElements", _("name at least one indicator."))
    countable = [k for k, i in indicators.INDICATORS.items() if i.unit != indicators.RATIO]
    found = []
    for key, entry in elements.items():
        where = f"dataElements.{key}"
        if key not in countable:
            raise MappingError(
                where, _("not an indicator (known: %(keys)s).", keys=", ".join(countable))
            )
        if isinstance(entry, str):
            entry = {"dataElement": entry}
        entry = _object(entry, where)
        _check_keys(entry, ELEMENT_KEYS, f"{where}.")
        data_element = _code(entry, "dataElement", f"{where}.")
        total_element = _code(entry, "totalDataElement", f"{where}.", required=False)
        by_sex = _flag(entry, "bySex", f"{where}.", about_people(key))
        if by_sex and not about_people(key):
            raise MappingError(
                f"{where}.bySex", _("this indicator counts institutions: it has no sex.")
            )
        total = _flag(entry, "total", f"{where}.", True)
        if not total and not by_sex:
            raise MappingError(where, _("sends nothing: set total or bySex to true."))
        found.append(
            ElementMapping(key, data_element, total, total_element or data_element, by_sex)
        )
    return tuple(found)


def load_mapping(data: Any) -> Mapping:
    """Return the mapping read from the JSON value ``data``; raise MappingError naming the key."""
    data = _object(data, "")
    _check_keys(data, TOP_KEYS, "")
    id_scheme = data.get("idScheme", "code")
    if id_scheme not in ID_SCHEMES:
        raise MappingError("idScheme", _("give one of %(choices)s.", choices=", ".join(ID_SCHEMES)))
    elements = _elements(data.get("dataElements"))
    combos_data = _object(data.get("categoryOptionCombos", {}), "categoryOptionCombos")
    _check_keys(combos_data, (TOTAL, *SEXES), "categoryOptionCombos.")
    needed = ([TOTAL] if any(e.total for e in elements) else []) + (
        list(SEXES) if any(e.by_sex for e in elements) else []
    )
    combos = {key: _code(combos_data, key, "categoryOptionCombos.") for key in needed}
    adx = _object(data.get("adx", {}), "adx")
    _check_keys(adx, ("sex", "groupAttributes"), "adx.")
    sex_attribute = sex_values = None
    if "sex" in adx:
        sex = _object(adx["sex"], "adx.sex")
        _check_keys(sex, ("attribute", "values"), "adx.sex.")
        sex_attribute = _attribute_name(sex.get("attribute"), "adx.sex.attribute")
        values = _object(sex.get("values"), "adx.sex.values")
        _check_keys(values, SEXES, "adx.sex.values.")
        sex_values = {s: _code(values, s, "adx.sex.values.") for s in SEXES}
    group = _object(adx.get("groupAttributes", {}), "adx.groupAttributes")
    group_attributes = {
        _attribute_name(name, f"adx.groupAttributes.{name}"): _code(
            group, name, "adx.groupAttributes."
        )
        for name in group
    }
    if sex_attribute is not None and sex_attribute in group_attributes:
        raise MappingError("adx.sex.attribute", _("already an attribute of the group."))
    return Mapping(
        org_unit=_code(data, "orgUnit"),
        elements=elements,
        category_option_combos=combos,
        project=_code(data, "project", required=False),
        data_set=_code(data, "dataSet", required=False),
        attribute_option_combo=_code(data, "attributeOptionCombo", required=False),
        id_scheme=id_scheme,
        adx_sex_attribute=sex_attribute,
        adx_sex_values=sex_values,
        adx_group_attributes=group_attributes,
    )


def check_for_adx(mapping: Mapping) -> None:
    """Raise MappingError if ``mapping`` lacks what an ADX document needs."""
    if mapping.data_set is None:
        raise MappingError("dataSet", _("ADX needs the data set: add its code."))
    if any(e.by_sex for e in mapping.elements) and mapping.adx_sex_attribute is None:
        raise MappingError(
            "adx.sex", _("ADX needs the attribute that carries the sex, and its values.")
        )


def read_mapping(text: str | bytes) -> Mapping:
    """Return the mapping of a JSON file's content; raise MappingError saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        where = _("line %(line)d, column %(column)d", line=error.lineno, column=error.colno)
        raise MappingError(where, _("the file is not JSON (%(error)s).", error=error.msg)) from None
    except UnicodeDecodeError:
        raise MappingError("", _("the file is not text encoded in UTF-8.")) from None
    return load_mapping(data)


# --- The documents ------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One data value, before a document writes it."""

    data_element: str
    #: "total", "F" or "M"
    category: str
    value: int


def values(mapping: Mapping, figures: MappingType[str, Figure]) -> list[Value]:
    """Return the data values of ``figures`` the mapping sends, in the mapping's order."""
    found = []
    for element in mapping.elements:
        figure = figures[element.indicator]
        if element.total:
            found.append(Value(element.total_data_element, TOTAL, figure.total))
        if element.by_sex:
            for sex in SEXES:
                found.append(Value(element.data_element, sex, (figure.by_sex or {}).get(sex, 0)))
    return found


def data_value_set(mapping: Mapping, period: Dhis2Period, found: Sequence[Value]) -> dict:
    """Return the ``dataValueSets`` JSON document of the values, as a dict."""
    rows = []
    for value in found:
        row = {
            "dataElement": value.data_element,
            "period": period.code,
            "orgUnit": mapping.org_unit,
            "categoryOptionCombo": mapping.category_option_combos[value.category],
        }
        if mapping.attribute_option_combo:
            row["attributeOptionCombo"] = mapping.attribute_option_combo
        row["value"] = str(value.value)
        rows.append(row)
    document: dict[str, Any] = {}
    if mapping.data_set:
        document["dataSet"] = mapping.data_set
    document["dataValues"] = rows
    return document


def json_document(mapping: Mapping, period: Dhis2Period, found: Sequence[Value]) -> bytes:
    """Return the ``dataValueSets`` JSON document, UTF-8 encoded."""
    document = data_value_set(mapping, period, found)
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def adx_document(
    mapping: Mapping, period: Dhis2Period, found: Sequence[Value], *, exported: datetime
) -> bytes:
    """Return the ADX document of the values, UTF-8 encoded (``check_for_adx`` first)."""
    check_for_adx(mapping)
    ET.register_namespace("", ADX_NAMESPACE)

    def tag(name: str) -> str:
        return f"{{{ADX_NAMESPACE}}}{name}"

    root = ET.Element(tag("adx"), exported=exported.isoformat(timespec="seconds"))
    group = ET.SubElement(
        root,
        tag("group"),
        {
            "orgUnit": mapping.org_unit,
            "period": period.adx,
            "dataSet": mapping.data_set or "",
            **(mapping.adx_group_attributes or {}),
        },
    )
    for value in found:
        attributes = {"dataElement": value.data_element}
        if value.category != TOTAL:
            attributes[mapping.adx_sex_attribute] = mapping.adx_sex_values[value.category]
        attributes["value"] = str(value.value)
        ET.SubElement(group, tag("dataValue"), attributes)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
