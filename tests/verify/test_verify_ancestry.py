"""Ancestry from real git repositories: a path (shallow clones are deepened,
unknown commits fetched) and a URL (cloned bare)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from promoter.errors import InputError
from promoter.verify.ancestry import fetch_all, local_repo, repo_ancestry


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def commit(work: Path, n: int) -> str:
    (work / "f").write_text(str(n))
    git(work, "add", "f")
    git(work, "commit", "-q", "-m", f"c{n}")
    return git(work, "rev-parse", "HEAD")


@pytest.fixture
def remote(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A bare remote with three commits, and a working clone that pushes to it."""
    bare, work = tmp_path / "remote.git", tmp_path / "work"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(tmp_path, "clone", "-q", str(bare), str(work))
    shas = [commit(work, n) for n in range(3)]
    git(work, "push", "-q", "origin", "HEAD:main")
    return bare, work, shas


def test_shallow_clone_is_deepened_and_new_commits_fetched(
        remote: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    bare, work, shas = remote
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{bare}", str(shallow))
    later = commit(work, 9)
    git(work, "push", "-q", "origin", "HEAD:main")
    check = repo_ancestry(str(shallow))
    assert check(shas[0], shas[2]) is True
    assert check(shas[0], later) is True
    assert check(later, shas[0]) is False


def test_url_is_cloned(remote: tuple[Path, Path, list[str]]) -> None:
    bare, _, shas = remote
    with local_repo(f"file://{bare}") as path:
        check = repo_ancestry(path)
        assert check(shas[1], shas[2]) is True
        assert check(shas[2], shas[1]) is False


def test_unreachable_url_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot clone"), local_repo(
            f"file://{tmp_path}/missing.git"):
        pass


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tempfile's directory, so that a test sees what a clone leaves behind."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_the_temporary_clone_is_removed_on_every_path(
        remote: tuple[Path, Path, list[str]], temp_root: Path) -> None:
    bare, _, shas = remote
    with local_repo(f"file://{bare}") as path:
        assert Path(path).parent == temp_root and repo_ancestry(path)(shas[0], shas[1])
    assert list(temp_root.iterdir()) == []
    with pytest.raises(KeyboardInterrupt), local_repo(f"file://{bare}"):
        raise KeyboardInterrupt
    assert list(temp_root.iterdir()) == []
    with pytest.raises(InputError), local_repo(f"file://{bare}.missing"):
        pass
    assert list(temp_root.iterdir()) == []


def test_a_local_path_is_used_as_is(remote: tuple[Path, Path, list[str]]) -> None:
    _, work, _ = remote
    with local_repo(str(work)) as path:
        assert path == str(work)
    assert work.is_dir()


def test_a_failed_fetch_is_an_error(remote: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    bare, _, _ = remote
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{bare}", str(clone))
    shutil.rmtree(bare)  # origin is gone: git fetch exits 128
    with pytest.raises(InputError, match="fetch"):
        fetch_all(str(clone))


def test_the_promotion_clone_is_deepened_through_its_git_session(
        remote: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    from promoter import git as gitmod
    from promoter import git_remote
    from promoter.verify.pipeline import clone_ancestry

    bare, work, shas = remote
    clone = tmp_path / "clone"
    git_remote.clone(gitmod.Git(), f"file://{bare}", clone, "main")
    merged = commit(work, 7)
    git(work, "push", "-q", "origin", "HEAD:main")
    check = clone_ancestry(gitmod.Git(), clone, "main")
    assert check(shas[0], merged) is True
    assert check(merged, shas[2]) is False


def test_inherited_git_variables_do_not_leak_into_ancestry_checks(
        remote: tuple[Path, Path, list[str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As inside a git hook: GIT_* state of another repository is not inherited."""
    _, work, shas = remote
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GIT_WORK_TREE", str(tmp_path))
    check = repo_ancestry(str(work))
    assert check(shas[0], shas[2]) is True
    assert check(shas[2], shas[0]) is False


def test_an_unknown_commit_fetches_and_a_failed_fetch_surfaces(
        remote: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    bare, _, shas = remote
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{bare}", str(clone))
    shutil.rmtree(bare)
    check = repo_ancestry(str(clone))
    assert check(shas[0], shas[2]) is True  # known: no fetch
    with pytest.raises(InputError, match="fetch"):
        check("0" * 40, shas[2])


def test_without_an_origin_an_unknown_commit_is_no_match_yet(
        remote: tuple[Path, Path, list[str]]) -> None:
    _, work, shas = remote
    git(work, "remote", "remove", "origin")
    with pytest.raises(LookupError):
        repo_ancestry(str(work))("0" * 40, shas[2])


@pytest.mark.parametrize("seen", ["1.2.3", "main", "HEAD", "v2"])
def test_a_revision_that_is_no_commit_sha_is_no_match(
        remote: tuple[Path, Path, list[str]], seen: str) -> None:
    """An Argo CD app whose source is a Helm chart syncs chart version 1.2.3;
    the config repository happens to have a tag (or branch) of that name on a
    descendant of the merge commit. git would resolve the name: only a commit
    SHA the cluster names is compared, so the app is not verified."""
    import verify_objects as o

    from promoter.verify.argocd import check_application
    from promoter.verify.rules import Expect

    _, work, shas = remote
    git(work, "tag", "1.2.3")
    git(work, "tag", "v2")
    app = o.application(seen)
    app["spec"]["source"] = {"repoURL": "https://charts.example/stable", "chart": "api",
                             "targetRevision": seen}
    expect = Expect(shas[0], is_ancestor=repo_ancestry(str(work)),
                    repo_url="https://git.example/config")
    check = check_application(o.checked(app), expect)
    assert check.state == "waiting", check.reason
    assert check.reason.startswith(f"synced revision {seen} is not {shas[0][:12]}")
