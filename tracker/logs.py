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

_QUERY = re.compile(r"\?[^\s\"]*")
_VALUE = re.compile(r"=[^&]*")


def redact_query(text: str) -> str:
    """Return ``text`` with the value of every query parameter replaced by "…"."""
    return _QUERY.sub(lambda m: _VALUE.sub("=…", m.group(0)), text)


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
