"""What a promotion changes: the target, the image to write, the edit plan,
the commit message, and the conflict check between two plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from promoter import __version__, images
from promoter import config as cfg
from promoter.config_environments import DEFAULT_BRANCH, DEFAULT_MESSAGE, VerifySettings
from promoter.errors import ConflictError, InputError
from promoter.forges import DEFAULTS as PULL_REQUEST_DEFAULTS
from promoter.images import ImageRef
from promoter.manifests import Change, Plan, find_references
from promoter.template import fill, values

FLAGS_ENV = "default"


@dataclass(frozen=True)
class CiRun:
    """Where the promotion came from (CI run and commit), when the CI says."""

    run_url: str | None = None
    commit: str | None = None
    commit_url: str | None = None


def flags_target(
    image: str, paths: Sequence[str], keys: Sequence[str], app: str | None, env: str | None
) -> cfg.Target:
    """A target from flags alone (no .promoter.yaml): ``--image`` and ``--path``."""
    ref = images.parse_new(image)
    if not paths:
        raise InputError(f"no {cfg.FILE} in the repository and no --path; add --path PATH")
    app = app or ref.last_component
    env = env or FLAGS_ENV
    return cfg.Target(
        app=app, env=env, image=ref.name,
        paths=tuple(cfg.safe_path(p, "--path") for p in paths), keys=tuple(keys),
        branch=fill(DEFAULT_BRANCH, {"app": app, "env": env}),
        commit_message=DEFAULT_MESSAGE, direct=False,
        pull_request=PULL_REQUEST_DEFAULTS, verify=VerifySettings(),
    )


def new_ref(target: cfg.Target, image: str | None) -> ImageRef:
    """The reference to write for ``--image``: same repository as the app."""
    if image is None:
        raise InputError("give --image REF or --from ENV")
    ref = images.parse_new(image)
    if not images.same_repository(ref.name, target.image):
        raise InputError(
            f"--image {image} is not app {target.app}'s image {target.image}; "
            "check --app and --image"
        )
    return ref


def from_env(root: Path, config: cfg.Config, target: cfg.Target, source: str) -> ImageRef:
    """The exact reference (tag and digest) ``target.app`` has in env ``source``."""
    if source == target.env:
        raise InputError(f"--from {source} is the target environment; name another one")
    origin = cfg.resolve(config, target.app, source)
    found = find_references(root, cfg.expand(root, origin.paths), target.image, keys=origin.keys)
    versions = sorted({(f.ref.tag, f.ref.digest) for f in found if f.ref.tag or f.ref.digest},
                      key=str)
    if not versions:
        raise InputError(
            f"app {target.app} has no image {target.image} in environment {source} "
            f"({', '.join(origin.paths)}); promote it to {source} first"
        )
    if len(versions) > 1:
        listed = ", ".join(_version(t, d) for t, d in versions)
        raise InputError(
            f"app {target.app} runs several versions in {source} ({listed}); "
            "make them agree or use --image"
        )
    tag, digest = versions[0]
    return images.parse(target.image).with_version(tag, digest)


def _version(tag: str | None, digest: str | None) -> str:
    return (tag or "") + (f"@{digest}" if digest else "")


def sparse_paths(config: cfg.Config | None, target: cfg.Target, source: str | None) -> list[str]:
    """Paths the checkout needs: the target's, and the source environment's."""
    paths = list(target.paths)
    if config is not None and source is not None and source in config.environments:
        paths += cfg.resolve(config, target.app, source).paths
    return paths


def message(
    template: str, target: cfg.Target, edits: Plan, ref: ImageRef, source: CiRun
) -> str:
    """The commit message: the template, then trailers recording the source."""
    subject = fill(template, values(target.app, target.env, str(ref),
                                    [change.old for change in edits.changes]))
    trailers = [f"Promoted-by: promoter {__version__}", f"Image: {ref}"]
    if source.run_url:
        trailers.append(f"Source-Run: {source.run_url}")
    if source.commit:
        trailers.append(f"Source-Commit: {source.commit}")
    return f"{subject.strip()}\n\n" + "\n".join(trailers) + "\n"


def ci_run_from(environ: Mapping[str, str]) -> CiRun:
    """CI run URL and source commit from GitHub Actions or GitLab CI variables."""
    server, repo = environ.get("GITHUB_SERVER_URL"), environ.get("GITHUB_REPOSITORY")
    if server and repo:
        run = environ.get("GITHUB_RUN_ID")
        sha = environ.get("GITHUB_SHA")
        return CiRun(
            run_url=f"{server}/{repo}/actions/runs/{run}" if run else None,
            commit=sha, commit_url=f"{server}/{repo}/commit/{sha}" if sha else None,
        )
    if environ.get("GITLAB_CI") or environ.get("CI_PIPELINE_URL"):
        sha, project = environ.get("CI_COMMIT_SHA"), environ.get("CI_PROJECT_URL")
        return CiRun(
            run_url=environ.get("CI_PIPELINE_URL"), commit=sha,
            commit_url=f"{project}/-/commit/{sha}" if sha and project else None,
        )
    return CiRun()


def check_conflict(first: Plan, again: Plan, branch: str) -> None:
    """After the base moved: every value the first plan saw as old must still be
    that old value, or already the new one. Otherwise raise ConflictError."""
    now = {(c.file, c.path): c for c in again.changes}
    for change in first.changes:
        current: Change | None = now.get((change.file, change.path))
        if current is not None and current.old != change.old:
            raise ConflictError(
                f"{change.file}:{current.line} {change.path} changed on {branch} from "
                f"{change.old} to {current.old} while promoting {change.new}; "
                "re-run the promotion if it should still apply"
            )
