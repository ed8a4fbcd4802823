"""A signal (SIGTERM, SIGINT: the CLI's handler raises Interrupted) that lands
in the middle of writing $GITHUB_OUTPUT, the job summary or the dotenv report
never leaves half a block: the file holds nothing of it or all of it. The
interruption comes from a real signal sent to this process while the bytes go
out, after a short write; whichever way the module writes (a file object or
os.write) is interrupted the same way."""

from __future__ import annotations

import builtins
import os
import pathlib
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from promoter import report_ci
from promoter.errors import Interrupted

RECORD: dict[str, Any] = {
    "schema": "promoter/v1", "app": "api", "env": "staging", "image": "ghcr.io/acme/api:1.5",
    "changed": True, "operation": "created", "branch": "promoter/staging/api",
    "commit": "a" * 40, "files": [f"apps/api/{n}.yaml" for n in range(400)],
    "error": None,
}


@pytest.fixture(autouse=True)
def cli_handler() -> Iterator[None]:
    """The CLI's handler: a signal raises Interrupted in the main thread."""
    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


def signal_midway(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every write writes half its bytes, then SIGTERM arrives; the list counts them."""
    sent: list[int] = []
    real_write, real_open = os.write, builtins.open

    def half(data: bytes | str) -> int:
        return max(1, len(data) // 2)

    def short_write(fd: int, data: bytes) -> int:
        written = real_write(fd, bytes(data)[:half(data)])
        if not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGTERM)
        return written

    class Halting:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def write(self, data: str) -> int:
            self.handle.write(data[:half(data)])
            self.handle.flush()
            sent.append(1)
            os.kill(os.getpid(), signal.SIGTERM)
            return half(data)

        def __enter__(self) -> Halting:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

    def halting_open(*args: Any, **kwargs: Any) -> Any:
        return Halting(real_open(*args, **kwargs))

    def halting_write_text(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        with halting_open(self, "w", encoding="utf-8") as handle:
            return int(handle.write(data))

    monkeypatch.setattr(os, "write", short_write)
    monkeypatch.setattr(report_ci.github, "open", halting_open, raising=False)
    monkeypatch.setattr(pathlib.Path, "write_text", halting_write_text)
    return sent


def whole_or_nothing(path: Path, before: str, block: str) -> None:
    text = path.read_text() if path.exists() else ""
    assert text in (before, before + block), f"half a block in {path.name}: {len(text)} bytes"


def run_interrupted(write: Callable[[], object], sent: list[int]) -> None:
    with pytest.raises(Interrupted):  # the signal still stops the run, after the block
        write()
    assert sent, "no write was interrupted: the test proves nothing"


def test_github_outputs_and_summary_are_whole_or_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, summary = tmp_path / "out", tmp_path / "summary"
    out.write_text("earlier<<EOF\nkept\nEOF\n")
    summary.write_text("# earlier\n")
    environ = {"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}
    expected_summary = report_ci.github_summary(RECORD)
    sent = signal_midway(monkeypatch)
    run_interrupted(lambda: report_ci.write_github(dict(RECORD), environ), sent)
    text = out.read_text()
    assert text.startswith("earlier<<EOF\nkept\nEOF\n")
    block = text[len("earlier<<EOF\nkept\nEOF\n"):]
    if block:  # the delimiters are random: compare the whole block's shape
        assert block.endswith("\n") and block.count("<<ghadelimiter_") == len(
            report_ci.outputs(RECORD)), "half a block in $GITHUB_OUTPUT"
    whole_or_nothing(summary, "# earlier\n", expected_summary)


def test_github_error_outputs_are_whole_or_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out"
    out.write_text("")
    message = "x" * 5000
    sent = signal_midway(monkeypatch)
    run_interrupted(lambda: report_ci.github_error(message, {"GITHUB_OUTPUT": str(out)}), sent)
    text = out.read_text()
    assert text == "" or (text.count("<<ghadelimiter_") == 3 and message in text), text[-80:]


def test_the_dotenv_report_and_result_file_are_whole_or_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    dotenv, result = tmp_path / "promoter.env", tmp_path / "result.json"
    dotenv.write_text("PROMOTER_OPERATION=old\n")
    environ = {"PROMOTER_DOTENV": str(dotenv), "PROMOTER_RESULT_FILE": str(result)}
    block = report_ci.dotenv_text(report_ci.dotenv_values(RECORD))
    sent = signal_midway(monkeypatch)
    run_interrupted(lambda: report_ci.write_gitlab(dict(RECORD), environ), sent)
    assert dotenv.read_text() in ("PROMOTER_OPERATION=old\n", block)
    if result.exists():
        import json

        assert json.loads(result.read_text())["files"] == RECORD["files"]
    assert [p.name for p in tmp_path.iterdir()] in (["promoter.env"],
                                                    sorted(["promoter.env", "result.json"]))


def test_a_short_write_is_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No signal: a short write is followed by the rest, the block is whole."""
    out = tmp_path / "out"
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data)[:7]))
    report_ci.github_error("short", {"GITHUB_OUTPUT": str(out)})
    text = out.read_text()
    assert text.count("<<ghadelimiter_") == 3 and "short" in text
