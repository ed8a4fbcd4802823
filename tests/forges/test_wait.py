"""Progress output while waiting: live line on a TTY, heartbeat lines in CI logs."""

from __future__ import annotations

import io

from promoter.forges.wait import Progress
from promoter.retry import Clock


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_heartbeat_every_30_seconds_off_a_terminal() -> None:
    now = [0.0]
    stream = io.StringIO()
    progress = Progress(stream, Clock(now=lambda: now[0], sleep=lambda s: None))
    for t in range(0, 70, 10):
        now[0] = float(t)
        progress(f"t={t}")
    assert stream.getvalue().splitlines() == ["t=0", "t=30", "t=60"]


def test_live_status_rewrites_one_line_on_a_terminal() -> None:
    stream = Tty()
    progress = Progress(stream)
    progress("a")
    progress("b")
    progress.done()
    assert stream.getvalue() == "\r\x1b[Ka\r\x1b[Kb\n"
