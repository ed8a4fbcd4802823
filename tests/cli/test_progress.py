"""The one progress printer: live line on a TTY, plain lines in CI logs."""

from __future__ import annotations

import io

from promoter.cli.progress import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_status_rewrites_one_line_on_a_terminal() -> None:
    stream = Tty()
    progress = Progress(stream)
    progress("a")
    progress("b")
    progress.done()
    assert stream.getvalue() == "\r\x1b[Ka\r\x1b[Kb\n"


def test_plain_lines_off_a_terminal_and_nothing_to_end() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    progress("a")
    progress("a")
    progress.done()
    assert stream.getvalue() == "a\na\n"
