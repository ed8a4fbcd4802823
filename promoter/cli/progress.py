"""The one progress printer: what a wait (``--wait-merge``, ``--verify``,
``promoter verify``) is doing, on stderr. On a terminal one status line is
rewritten in place (cut to the terminal's width); elsewhere (CI logs) each line
is printed. The waiting loops decide how often to report (a change, or every
``HEARTBEAT`` seconds) and get this printer as their ``progress`` callback."""

from __future__ import annotations

import os
import sys
from typing import TextIO


class Progress:
    """A ``progress`` callback for forges.wait and verify; ``done`` ends the live line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.width = _width(self.stream) if self.tty else None
        self.live = False  # a status line is showing, not ended yet

    def __call__(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + text[:self.width])
            self.live = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        """End the live status line (on a terminal), so that what follows starts afresh."""
        if self.live:
            self.stream.write("\n")
            self.stream.flush()
            self.live = False


def _width(stream: TextIO) -> int | None:
    try:
        return max(os.get_terminal_size(stream.fileno()).columns - 1, 20)
    except (OSError, ValueError):  # a stream that says it is a terminal but has no size
        return None
