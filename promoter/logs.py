"""Where log records go: promoter's output is its own.

- promoter's loggers (``promoter.*``) print on stderr as ``promoter: ...``
  (warnings and worse; everything with --verbose), through one handler on the
  root logger that the CLI sets up (``promoter.cli.common.setup_logging``),
  whose filter is ``Printed``.
- Other libraries' records (urllib3's "Retrying ... after connection broken by
  ...: /apis/...", which names the request's URL) and ``warnings`` (urllib3's
  InsecureRequestWarning under a kubeconfig's ``insecure-skip-tls-verify``),
  routed to logging, reach that handler and are printed only with --verbose.
  With a handler on the root logger, logging's last resort (which prints a
  record that reaches no handler) never runs.
- A library that logs a failure on the root logger and carries on (the
  kubernetes client's kubeconfig loader when an exec credential plugin fails)
  is watched with ``kept``: its records under that library's directory are
  kept per thread for promoter's own error and reach no handler at all, not
  even --verbose's or an embedding program's.

Every record is redacted (``http_safety.install_log_redaction``, which the
CLI's set-up installs).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

OWN = "promoter"
FORMAT = "promoter: %(message)s"


def own(record: logging.LogRecord) -> bool:
    """Whether ``record`` comes from one of promoter's loggers."""
    return record.name == OWN or record.name.startswith(OWN + ".")


class Printed(logging.Filter):
    """On promoter's stderr handler: promoter's records; others with --verbose."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        return self.verbose or own(record)


class Kept(logging.Filter):
    """On the root logger: a record logged by code under ``directory`` is kept
    (its message, the last per thread, in ``seen``) and goes no further."""

    def __init__(self, directory: str) -> None:
        super().__init__()
        self.directory = directory
        self.seen: dict[int, str] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.pathname.startswith(self.directory):
            return True
        self.seen[record.thread or 0] = record.getMessage()
        return False


@contextlib.contextmanager
def kept(directory: str) -> Iterator[Kept]:
    """The root logger's Kept for ``directory`` (added once), with a handler on
    the root logger while the block runs, so that a library's module-level
    ``logging.error`` does not install a stderr handler of its own
    (``logging.basicConfig``, when the root logger has none)."""
    root = logging.getLogger()
    found = next((f for f in root.filters
                  if isinstance(f, Kept) and f.directory == directory), None)
    if found is None:
        found = Kept(directory)
        root.addFilter(found)
    quiet = logging.NullHandler()
    root.addHandler(quiet)
    try:
        yield found
    finally:
        root.removeHandler(quiet)
