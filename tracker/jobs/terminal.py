"""A progress bar on a terminal for the commands that do a job's work themselves.

The commands (``import``, ``export``, ``report donor``, ``indicators rebuild``…) keep
working synchronously; on a terminal they show how far they have gone with
``click.progressbar``, on standard error; piped or in cron, they stay silent.
"""

from __future__ import annotations

import sys

import click


class TerminalProgress:
    """Takes ``step(label, total)`` and ``update(done, total)`` like a job's progress."""

    def __init__(self, *, min_total: int = 1000, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.min_total = min_total
        self.shown = self.stream.isatty()
        self._bar = None
        self._label = ""
        self._pos = 0

    def step(self, label: str, total: int | None = None) -> None:
        self.close()
        self._label = label
        self._open(total)

    def _open(self, total: int | None) -> None:
        if self.shown and total and total >= self.min_total:
            self._bar = click.progressbar(length=total, label=self._label, file=self.stream)
            self._bar.__enter__()
            self._pos = 0

    def update(self, done: int, total: int | None = None) -> None:
        if self._bar is None and total:
            self._open(total)  # a step whose size became known as it went
        if self._bar is not None and done > self._pos:
            self._bar.update(done - self._pos)
            self._pos = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
