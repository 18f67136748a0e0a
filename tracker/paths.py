"""Where the tracker's files are: one ``PROJECT_ROOT`` for every absolute path.

A module of its own so that any part of the tracker can import it without
importing the ``tracker`` package's ``create_app`` (which imports every part).
"""

from __future__ import annotations

from pathlib import Path

#: the checkout: tracker/, templates/, static/, migrations/, instance/ …
PROJECT_ROOT = Path(__file__).resolve().parent.parent
