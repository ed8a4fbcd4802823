"""Registry settings of one promotion (no network imports here)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Options:
    """Given on the command line; None: as configured for the environment
    (``registry``, default true; ``pin_digest``, default false). The Python
    API's default is ``check=False``: library callers opt in."""

    check: bool | None = None
    pin_digest: bool | None = None
    insecure: tuple[str, ...] = ()  # host[:port] spoken to over plain HTTP
    timeout: float = DEFAULT_TIMEOUT
