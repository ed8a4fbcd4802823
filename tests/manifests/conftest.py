"""The forked walk's tests need a process without other threads: promoter
forks no child beside threads (manifests/forked.py), so in such a process these
tests would walk serially and pass, or fail, without testing the split. A test
worker may hold threads that other tests' fixtures started: a session's
registry and the thread reading its log, a fake server's connection that its
client left open. In such a worker each of these tests runs, whole, in a fresh
interpreter instead, and that run's outcome is this test's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

FORKING = frozenset({"test_forked.py", "test_forked_plan.py", "test_forked_claims.py"})
ALONE = "PROMOTER_TEST_ALONE"  # set in the fresh interpreter
# the environment before any test's fixture changed it (HOME, caches, ...)
ENVIRONMENT = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


def _others() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    others = _others()
    if pyfuncitem.path.name not in FORKING or not others:
        return None  # run here, as usual
    if os.environ.get(ALONE):
        pytest.fail(f"threads running in a fresh interpreter: {', '.join(others)}",
                    pytrace=False)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:randomly",
         "-p", "no:cacheprovider", pyfuncitem.nodeid],
        cwd=pyfuncitem.config.rootpath, env={**ENVIRONMENT, ALONE: "1"},
        capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"failed in a fresh interpreter (threads here: {', '.join(others)}):\n"
                    f"{done.stdout[-6000:]}{done.stderr[-2000:]}", pytrace=False)
    return True
