"""promoter's exceptions, each carrying the process exit code.

    PromoterError (1)             something failed
    ├── InputError (2)            bad usage, config or input (file, key, value named)
    ├── AuthError (3)             authentication or permission refused
    ├── BlockedError (4)          the pull request was closed or cannot merge
    ├── WaitTimeout (5)           a wait ran out of time
    │   └── VerifyTimeout (5)     the verification did (carries its result)
    ├── VerifyFailed (6)          the cluster proves the promotion did not go live
    ├── Unreachable (1)           a server was never reached (verify stops early)
    ├── ConflictError (1)         the value changed under us (compare-and-swap lost)
    ├── RetryableError (1)        transient: a 5xx, 429 or rejected push; may be retried
    ├── AutoMergeRefused (1)      the pull request is published, auto-merge refused (carries it)
    └── PromotionFailed (its error's)  a stage after the push failed (``error``); carries
                                  the record so far (``result``), which the CLI prints

    Interrupted (1, a BaseException)  SIGTERM or SIGINT: unwinds like KeyboardInterrupt,
                                  so that cleanup (the temporary clone, git processes) runs

    Inside manifests/ only (no exit code: they never leave it; each becomes a Skip,
    a file or reference named in the plan and left unedited):
    BadYaml                       a file that cannot be edited safely (line named)
    NotEditable                   a reference that cannot be given the new version
    NotRegular                    a path that is not a regular file (FIFO, device, symlink)

Every message is one line: ``<what happened>; <what to do>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promoter.forges import ForgeResult
    from promoter.promotion import Promotion
    from promoter.verify.watch import VerifyResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_AUTH = 3
EXIT_BLOCKED = 4
EXIT_TIMEOUT = 5
EXIT_VERIFY = 6


class PromoterError(Exception):
    """Base class; ``exit_code`` is what the process exits with."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split("\n")))

    @property
    def message(self) -> str:
        return str(self)


class InputError(PromoterError):
    exit_code = EXIT_INPUT


class AuthError(PromoterError):
    exit_code = EXIT_AUTH


class BlockedError(PromoterError):
    exit_code = EXIT_BLOCKED


class WaitTimeout(PromoterError):
    exit_code = EXIT_TIMEOUT


class VerifyFailed(PromoterError):
    """``result`` is the verification's record when the waiting loop decided
    (promoter.verify.watch), None when one source found it out alone."""

    exit_code = EXIT_VERIFY

    def __init__(self, message: str, result: VerifyResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class ConflictError(PromoterError):
    exit_code = EXIT_FAILED


class Unreachable(PromoterError):
    """A server (the Kubernetes API) was never reached: not worth waiting out the timeout."""

    exit_code = EXIT_FAILED


class RetryableError(PromoterError):
    """Transient failure; ``retry_after`` (seconds) when the server said so;
    ``min_wait`` the least to wait when it did not (doubled on each new try:
    GitHub's guidance for secondary rate limits)."""

    exit_code = EXIT_FAILED

    def __init__(
        self, message: str, retry_after: float | None = None, min_wait: float | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.min_wait = min_wait


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived; raised from the signal handler the CLI installs.
    A BaseException, so that no ``except PromoterError`` swallows it."""

    exit_code = EXIT_FAILED

    def __init__(self, signum: int) -> None:
        import signal

        super().__init__(signum)
        self.name = signal.Signals(signum).name
        self.message = (f"interrupted by {self.name}; promoter stopped and removed its"
                        " temporary files: run it again to finish")


class BadYaml(Exception):
    """A file that cannot be edited safely; ``line`` is 1-based (0 = unknown)."""

    def __init__(self, reason: str, line: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class NotEditable(Exception):
    """A reference that cannot be given the new version; becomes a Skip."""


class NotRegular(Exception):
    """A path that is not a regular file (FIFO, socket, device, symlink): not read."""


class VerifyTimeout(WaitTimeout):
    """The verification ran out of time (exit 5); ``result`` is its record."""

    def __init__(self, message: str, result: VerifyResult) -> None:
        super().__init__(message)
        self.result = result


class PromotionFailed(PromoterError):
    """A stage failed once the promotion had a result to report (pushed, the
    pull request open, the merge waited for): ``error`` is the stage's own
    exception, whose message and exit code this one carries; ``result`` the
    record so far, which the CLI prints with them."""

    def __init__(self, error: PromoterError, result: Promotion) -> None:
        super().__init__(error.message)
        self.exit_code = error.exit_code
        self.error = error
        self.result = result


class AutoMergeRefused(PromoterError):
    """The forge published the pull request but refused to turn on its
    auto-merge (GitHub: "not allowed" for the repository); ``published`` is what
    was published, for the record to keep the pull request."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, published: ForgeResult) -> None:
        super().__init__(message)
        self.published = published


class InterruptedAfterPush(Interrupted):
    """A signal once the promotion had pushed: ``result`` is the record so far
    (the branch and commit pushed, the pull request when it was written), which
    the CLI prints as the failed record before it exits."""

    def __init__(self, signum: int, result: Promotion) -> None:
        super().__init__(signum)
        self.result = result
