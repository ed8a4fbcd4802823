"""The forked walk's split made deterministic for tests (manifests/forked.py).

This process and the child take the shared subdirectories from both ends as
fast as each goes, so which of them walks a given subdirectory depends on the
scheduler, and this process takes over whatever the child has not answered
for yet when they meet. ``halves`` makes both stop at the middle and this
process wait for all of the child's answers: the child walks exactly the
second half, whatever the scheduling, and a test can put a file "in the
child's half".
"""

from __future__ import annotations

import pytest

from promoter.manifests import forked


def halves(monkeypatch: pytest.MonkeyPatch) -> None:
    here, there = forked.Claims.here, forked.Claims.there

    def here_to_the_middle(claims: forked.Claims) -> int | None:
        return None if claims.front >= claims.count // 2 else here(claims)

    def there_to_the_middle(claims: forked.Claims) -> int | None:
        index = there(claims)
        return None if index is None or index < claims.count // 2 else index

    monkeypatch.setattr(forked, "WAIT_FOR_THE_CHILD", True)
    monkeypatch.setattr(forked.Claims, "here", here_to_the_middle)
    monkeypatch.setattr(forked.Claims, "there", there_to_the_middle)
