"""Keep personal data out of the server's logs.

A search for a person puts her name in the query string (``/participants/?q=Awa+Diop``)
and the development server logs every request line. The filter below replaces every
query value in those lines with "…" before they are written, keeping the parameter
names, which is what an operator needs to read a log. In production, run gunicorn
with an access log format that leaves the query out (``%(U)s``, see docs/security.md).
"""

from __future__ import annotations

import logging
import re

# the query runs from "?" to the protocol of the request line (" HTTP/1.1"), or to the end
# of the line: not to the first space or quote, which a value may hold when a client sends
# it raw (a non-breaking space, a quote sent as such rather than as %22, a tab)
_QUERY = re.compile(r"\?.*?(?= HTTP/\d|\n|$)", re.DOTALL)


def _redact_part(part: str) -> str:
    # "name=value" keeps its name; a part without "=" is all value (/?Awa+Diop)
    name, equals, _value = part.partition("=")
    return f"{name}=…" if equals else ("…" if part else part)


def redact_query(text: str) -> str:
    """Return ``text`` with the value of every query parameter replaced by "…"."""
    return _QUERY.sub(
        lambda m: "?" + "&".join(_redact_part(p) for p in m.group(0)[1:].split("&")), text
    )


class RedactQueryStrings(logging.Filter):
    """A logging filter that redacts the query strings of logged request lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in args)
        return True


def init_app(_app) -> None:
    """Install the filter on Werkzeug's request log (once per process)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactQueryStrings) for f in logger.filters):
        logger.addFilter(RedactQueryStrings())
