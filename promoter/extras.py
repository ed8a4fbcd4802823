"""The optional SDKs: which extra installs each, and the one line to print when
one is missing. ``pip install promoter`` gives update, diff, demo, the local
forge and Argo CD API verification; the forges and the cluster need extras:

    pip install 'promoter[github]'   # PyGithub: GitHub pull requests
    pip install 'promoter[gitlab]'   # python-gitlab: GitLab merge requests
    pip install 'promoter[kube]'     # kubernetes: verify from the cluster
    pip install 'promoter[all]'      # all three
"""

from __future__ import annotations

import importlib.util
import traceback

from promoter.errors import InputError

# the adapter module that imports an SDK -> (what it needs, the extra)
ADAPTERS = {
    "promoter.forges.github": ("the GitHub forge needs PyGithub", "github"),
    "promoter.forges.github_errors": ("the GitHub forge needs PyGithub", "github"),
    "promoter.forges.gitlab": ("the GitLab forge needs python-gitlab", "gitlab"),
    "promoter.verify.kube": ("verifying from the cluster needs the kubernetes client", "kube"),
    "promoter.verify.kube_connect": ("verifying from the cluster needs the kubernetes client",
                                     "kube"),
}
# the SDK's top-level module -> the adapter that imports it
SDKS = {"github": "promoter.forges.github", "gitlab": "promoter.forges.gitlab",
        "kubernetes": "promoter.verify.kube"}


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The one-line message for an SDK that is not installed, or None when the
    missing module is none of promoter's optional SDKs."""
    adapter = None
    for frame in traceback.extract_tb(exc.__traceback__):
        module = _module_of(frame.filename)
        if module in ADAPTERS:
            adapter = module
    if adapter is None:
        adapter = SDKS.get((exc.name or "").partition(".")[0])
    if adapter is None:
        return None
    return _message(*ADAPTERS[adapter])


FORGE_SDKS = {"github": "github", "gitlab": "gitlab"}  # forge name -> SDK module


def require_forge(forge_name: str) -> None:
    """Raise InputError, before anything is cloned or pushed, when the forge's SDK
    is not installed."""
    sdk = FORGE_SDKS.get(forge_name)
    if sdk is not None and importlib.util.find_spec(sdk) is None:
        what, extra = ADAPTERS[SDKS[sdk]]
        raise InputError(_message(what, extra))


def _message(what: str, extra: str) -> str:
    return (f"{what}, which is not installed; pip install 'promoter[{extra}]' "
            f"(or promoter[all]; in the GitHub Action: extras: {extra})")


def _module_of(filename: str) -> str:
    parts = filename.replace("\\", "/").removesuffix(".py").split("/")
    if "promoter" not in parts:
        return ""
    start = len(parts) - 1 - parts[::-1].index("promoter")
    return ".".join(parts[start:])
