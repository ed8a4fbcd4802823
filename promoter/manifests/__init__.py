"""The edit engine: find image references in manifests and change only the
bytes of their values (no git, no network). See scan.py for the entry points."""

from __future__ import annotations

from promoter.manifests.files import unified_diff, write_plan
from promoter.manifests.found import find_references
from promoter.manifests.records import Change, FileEdit, Found, Plan, Skip
from promoter.manifests.scan import plan_update

__all__ = [
    "Change",
    "FileEdit",
    "Found",
    "Plan",
    "Skip",
    "find_references",
    "plan_update",
    "unified_diff",
    "write_plan",
]
