"""Protected branches (issue 11 item 11): GitHub's GH006 and GitLab's refusal
are one exit code, 3, and a message that says the branch is protected."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configrepo import bare_from, example_copy, heads

from promoter.errors import AuthError
from promoter.promote import Request, promote

MESSAGES = {
    "github": "error: GH006: Protected branch update failed for refs/heads/{ref}.",
    "gitlab": "GitLab: You are not allowed to push code to protected branches on this project.",
}


def protected(tmp_path: Path, forge: str) -> Path:
    remote = bare_from(example_copy(tmp_path / "tree"), tmp_path / "remote.git")
    hook = remote / "hooks" / "pre-receive"
    text = MESSAGES[forge].replace("{ref}", "main")
    hook.write_text(f"#!/bin/sh\ncat >/dev/null\necho '{text}' >&2\nexit 1\n")
    hook.chmod(0o755)
    return remote


@pytest.mark.parametrize("forge", ["github", "gitlab"])
@pytest.mark.parametrize("direct", [True, False])
def test_a_protected_branch_is_exit_3_on_both_forges(
    tmp_path: Path, forge: str, direct: bool
) -> None:
    remote = protected(tmp_path, forge)
    request = Request(repo=str(remote), app="api", env="staging", direct=direct,
                      image="ghcr.io/acme/api:1.5.0")
    with pytest.raises(AuthError) as info:
        promote(request, {})
    message = str(info.value)
    branch = "main" if direct else "promoter/staging/api"
    assert info.value.exit_code == 3
    assert f"branch {branch} of {remote} is protected" in message
    assert "check the token" not in message
    assert list(heads(remote)) == ["main"]
