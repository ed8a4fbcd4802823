"""Where the vendored test data lives (tests/data, see tests/data/PROVENANCE.md).

Everything a test reads ships inside the repository: a clone with nothing
beside it runs the whole suite. A missing file is a failure, never a skip.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"


def data_file(*parts: str) -> Path:
    """The path of a vendored file; raises if the checkout lacks it."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"vendored test data missing: {path} (tests/data/PROVENANCE.md)")
    return path
