"""Send a DHIS2 document to ``/api/dataValueSets``: a dry run, then for real if nothing conflicts.

Credentials come from the environment, never from the command line (where other
users of the machine could read them): a personal access token in
``DHIS2_TOKEN``, else ``DHIS2_USERNAME`` and ``DHIS2_PASSWORD``. They travel
over HTTPS only, plain HTTP being allowed to this machine alone (a test server,
a tunnel); redirects are not followed, so they never reach another address.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

ENDPOINT = "/api/dataValueSets"
TIMEOUT_SECONDS = 120
#: a summary larger than this is not a summary
MAX_RESPONSE_BYTES = 10 * 1024 * 1024


class PushError(Exception):
    """The document could not be sent, or the answer could not be read."""


@dataclass(frozen=True)
class ImportSummary:
    """What DHIS2 says of an import (or of a dry run)."""

    status: str
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0
    conflicts: tuple[str, ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def clean(self) -> bool:
        """Say whether the import may go ahead: no conflict and no error."""
        return not self.conflicts and self.status.upper() not in ("ERROR", "WARNING")


def authorization(environ: Mapping[str, str]) -> str:
    """Return the Authorization header's value from the environment; PushError if none."""
    token = environ.get("DHIS2_TOKEN", "").strip()
    if token:
        return f"ApiToken {token}"
    username, password = environ.get("DHIS2_USERNAME", ""), environ.get("DHIS2_PASSWORD", "")
    if username and password:
        pair = f"{username}:{password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    raise PushError(
        _(
            "no credentials: set DHIS2_TOKEN (a personal access token), or DHIS2_USERNAME and "
            "DHIS2_PASSWORD, in the environment."
        )
    )


def _is_this_machine(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint(base_url: str) -> str:
    """Return the address of ``/api/dataValueSets`` on the DHIS2 instance at ``base_url``."""
    parts = urllib.parse.urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PushError(
            _("%(url)s is not the address of a DHIS2 instance (https://…).", url=repr(base_url))
        )
    if parts.scheme == "http" and not _is_this_machine(parts.hostname):
        raise PushError(
            _("credentials travel over https only (http is allowed to this machine alone).")
        )
    if parts.query or parts.fragment:
        raise PushError(_("give the address of the instance without ? or #."))
    path = parts.path.rstrip("/")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path + ENDPOINT, "", ""))


def _count(counts: Mapping[str, Any], key: str) -> int:
    value = counts.get(key, 0)
    return value if isinstance(value, int) else 0


def _conflict(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    parts = [str(item[k]) for k in ("object", "property", "errorCode") if item.get(k)]
    value = str(item.get("value", ""))
    return f"{' '.join(parts)}: {value}" if parts else value


def parse_summary(body: bytes) -> ImportSummary:
    """Return the import summary of DHIS2's answer (its own, or wrapped in ``response``)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PushError(_("the server's answer is not an import summary (not JSON).")) from None
    if not isinstance(data, dict):
        raise PushError(_("the server's answer is not an import summary."))
    # DHIS2 2.38 and later wrap the summary in a web message
    summary = data.get("response") if isinstance(data.get("response"), dict) else data
    counts = summary.get("importCount")
    if not isinstance(counts, dict):
        message = data.get("message") or summary.get("description") or ""
        raise PushError(
            _("the server's answer is not an import summary: %(message)s", message=message)
        )
    conflicts = summary.get("conflicts") or []
    return ImportSummary(
        status=str(summary.get("status") or data.get("status") or ""),
        imported=_count(counts, "imported"),
        updated=_count(counts, "updated"),
        ignored=_count(counts, "ignored"),
        deleted=_count(counts, "deleted"),
        conflicts=tuple(_conflict(c) for c in conflicts) if isinstance(conflicts, list) else (),
        description=str(summary.get("description") or ""),
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post(
    url: str,
    body: bytes,
    media_type: str,
    *,
    authorization: str,
    dry_run: bool,
    id_scheme: str,
    timeout: float = TIMEOUT_SECONDS,
) -> ImportSummary:
    """POST ``body`` to ``url`` (``endpoint()``) and return DHIS2's import summary."""
    query = urllib.parse.urlencode({"dryRun": str(dry_run).lower(), "idScheme": id_scheme})
    request = urllib.request.Request(  # noqa: S310 (endpoint() allows http(s) only)
        f"{url}?{query}",
        data=body,
        method="POST",
        headers={"Content-Type": media_type, "Accept": "application/json"},
    )
    request.add_unredirected_header("Authorization", authorization)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return parse_summary(response.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as error:
        with error:
            answer = error.read(MAX_RESPONSE_BYTES)
        if error.code in (401, 403):
            raise PushError(
                _("the server refused the credentials (HTTP %(code)d).", code=error.code)
            ) from None
        if 300 <= error.code < 400:
            raise PushError(
                _(
                    "the server sends to %(location)s (HTTP %(code)d): give that address.",
                    location=error.headers.get("Location", "?"),
                    code=error.code,
                )
            ) from None
        try:
            # DHIS2 2.38+ answers 409 with the summary when values conflict
            return parse_summary(answer)
        except PushError:
            raise PushError(
                _(
                    "the server answered HTTP %(code)d %(reason)s.",
                    code=error.code,
                    reason=error.reason,
                )
            ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PushError(_("cannot reach %(url)s: %(reason)s", url=url, reason=reason)) from None


@dataclass(frozen=True)
class PushResult:
    dry_run: ImportSummary
    #: None when the dry run found conflicts and nothing was sent for real
    imported: ImportSummary | None


def push(
    base_url: str,
    body: bytes,
    media_type: str,
    *,
    environ: Mapping[str, str],
    id_scheme: str,
    timeout: float = TIMEOUT_SECONDS,
) -> PushResult:
    """Send ``body`` as a dry run, then for real if the dry run found no conflict."""
    url = endpoint(base_url)
    header = authorization(environ)
    options = {"authorization": header, "id_scheme": id_scheme, "timeout": timeout}
    dry = post(url, body, media_type, dry_run=True, **options)
    if not dry.clean:
        return PushResult(dry, None)
    return PushResult(dry, post(url, body, media_type, dry_run=False, **options))
