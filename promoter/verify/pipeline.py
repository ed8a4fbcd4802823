"""``promote --verify``: verification as a pipeline stage. Targets come from the
environment's ``verify:`` config ({app}/{env} filled in); cluster access from
the request's ``Cluster``, the same flags ``promoter verify`` takes. The stage
returns the ``VerifyResult`` for the record or raises like ``promoter.verify.run``:
VerifyFailed (exit 6) and VerifyTimeout (exit 5) carry the result; a target
or setting that cannot be verified raises InputError (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from promoter import git
from promoter.errors import InputError
from promoter.images import ImageRef
from promoter.retry import VERIFY_SETTLE, VERIFY_TIMEOUT
from promoter.verify import VerifyResult, VerifyTarget, parse_target, run
from promoter.verify.cluster import Cluster
from promoter.verify.kinds import KINDS
from promoter.verify.rules import or_list

if TYPE_CHECKING:
    from promoter.verify.ancestry import RepoAncestry


class VerifyConfig(Protocol):
    """promoter.config_environments.VerifySettings, as far as this stage reads it: ``timeout``,
    ``settle`` and, for each verify kind, the names under its ``config_key``."""

    timeout: float | None
    settle: float | None


def clone_ancestry(session: git.Git, work: Path, base: str) -> RepoAncestry:
    """Ancestry over the promotion's own (shallow, blobless) clone: deepened and
    refreshed from origin through ``session``, which carries the credentials;
    each git command bounded by the time left of the verification (``run``)."""
    from promoter.verify.ancestry import fetch_all, repo_ancestry

    return repo_ancestry(str(work), lambda bounded: fetch_all(
        str(work), bounded, f"+refs/heads/{base}:refs/remotes/origin/{base}"),
        session=session)


def targets_from(spec: VerifyConfig, app: str, env: str) -> list[VerifyTarget]:
    from promoter.template import fill

    values = {"app": app, "env": env}
    return [parse_target(name, fill(template, values))
            for name, kind in KINDS.items() for template in getattr(spec, kind.config_key)]


def verify_promotion(spec: VerifyConfig, *, app: str, env: str, revision: str | None,
                     image: ImageRef | None, is_ancestor: Callable[[str, str], bool] | None,
                     cluster: Cluster, repo_url: str | None = None,
                     progress: Callable[[str], None] | None = None) -> VerifyResult:
    """Verify the merged ``revision`` of a promotion of ``app`` into ``env``;
    ``repo_url`` is the config repository (to pick a multi-source app's source);
    status lines go to ``progress`` (the CLI's printer)."""
    targets = targets_from(spec, app, env)
    if not targets:
        keys = or_list(kind.config_key for kind in KINDS.values())
        raise InputError(f"nothing to verify for {env}: add {keys} to "
                         f"environments.{env}.verify in .promoter.yaml")
    if not revision:
        raise InputError("no merge commit to verify; use --wait-merge or a direct push")
    settings = cluster.settings(
        revision, image=image,
        timeout=spec.timeout if spec.timeout is not None else VERIFY_TIMEOUT,
        settle=spec.settle if spec.settle is not None else VERIFY_SETTLE,
        is_ancestor=is_ancestor, repo_url=repo_url,
        limit=f"environments.{env}.verify.timeout in .promoter.yaml")
    return run(targets, settings, progress=progress)
