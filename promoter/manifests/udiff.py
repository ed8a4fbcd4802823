"""A unified diff of two texts that differ in a few places, linear in bytes.

Lines end with "\\n" only (as git and patch read them; a U+2028 or a lone CR
inside a line is part of it). Equal stretches are skipped by comparing
doubling chunks of bytes (memcmp speed), and lines are cut only around the
differences; after each difference the walk resumes at the nearest pair of
lines that starts CONFIRM equal lines (or ends both texts). Every line outside
the reported ranges is equal in both texts, so the diff is correct whichever
alignment is found; for the edits promoter makes it is also the minimal one.
Output: ``--- a/<file>`` / ``+++ b/<file>``, three lines of context, difflib's
hunk header format, ``\\ No newline at end of file`` where due.
"""

from __future__ import annotations

from typing import NamedTuple

CONTEXT = 3
CONFIRM = 3  # equal lines that make a common run
WINDOW = 200  # lines searched for the next common run after a difference
NO_NEWLINE = "\n\\ No newline at end of file\n"


class Range(NamedTuple):
    """Lines ``i1:i2`` of a (bytes ``a1:a2``) became lines ``j1:j2`` of b."""

    i1: int
    i2: int
    j1: int
    j2: int
    a1: int
    a2: int
    b1: int
    b2: int


def file_diff(name: str, a: bytes, b: bytes) -> list[str]:
    ranges = changed_ranges(a, b)
    if not ranges:
        return []
    out = [f"--- a/{name}\n", f"+++ b/{name}\n"]
    group: list[Range] = []
    for change in ranges:
        if group and change.i1 - group[-1].i2 > 2 * CONTEXT:
            out += _hunk(group, a, b)
            group = []
        group.append(change)
    return out + _hunk(group, a, b)


def changed_ranges(a: bytes, b: bytes) -> list[Range]:
    return _changed(a, b, True)


def changed_spans(a: bytes, b: bytes) -> list[tuple[int, int, int, int]]:
    """The byte ranges ``(a1, a2, b1, b2)`` of ``changed_ranges``, without
    counting the lines of the equal stretches (a pass over the whole text)."""
    return [(r.a1, r.a2, r.b1, r.b2) for r in _changed(a, b, False)]


def _changed(a: bytes, b: bytes, count: bool) -> list[Range]:
    """The differences; their line numbers only with ``count`` (else 0 + lines
    within the difference)."""
    ranges: list[Range] = []
    pa = pb = la = lb = 0
    while True:
        same = _common_prefix(a, b, pa, pb)
        if pa + same == len(a) and pb + same == len(b):
            return ranges
        start = max(a.rfind(b"\n", pa, pa + same) + 1, pa)  # the differing line's start
        lines = a.count(b"\n", pa, start) if count else 0
        la, lb, pb, pa = la + lines, lb + lines, pb + start - pa, start
        di, dj, na, nb = _resync(a, b, pa, pb)
        ranges.append(Range(la, la + di, lb, lb + dj, pa, na, pb, nb))
        la, lb, pa, pb = la + di, lb + dj, na, nb


def _common_prefix(a: bytes, b: bytes, pa: int, pb: int) -> int:
    """How many bytes from ``pa`` in a and ``pb`` in b are equal."""
    limit = min(len(a) - pa, len(b) - pb)
    done, step = 0, 256
    while done < limit:
        size = min(step, limit - done)
        if a[pa + done : pa + done + size] == b[pb + done : pb + done + size]:
            done, step = done + size, min(step * 2, 1 << 16)  # small: no mmap per slice
            continue
        low, high = done, done + size  # a[..low] equal; the first difference is before high
        while high - low > 1:
            mid = (low + high) // 2
            if a[pa + low : pa + mid] == b[pb + low : pb + mid]:
                low = mid
            else:
                high = mid
        return low
    return limit


def _lines(text: bytes, start: int, count: int) -> list[int]:
    """Offsets of the starts of up to ``count`` lines from ``start``, and the
    offset after the last one."""
    offsets = [start]
    while len(offsets) <= count and offsets[-1] < len(text):
        end = text.find(b"\n", offsets[-1])
        offsets.append(len(text) if end < 0 else end + 1)
    return offsets


def _resync(a: bytes, b: bytes, pa: int, pb: int) -> tuple[int, int, int, int]:
    """Lines to skip in a and b (and the offsets after them) to the next common run."""
    wanted = 8
    while True:
        oa, ob = _lines(a, pa, wanted + CONFIRM), _lines(b, pb, wanted + CONFIRM)
        found = _search(a, b, oa, ob, min(wanted, WINDOW))
        if found is not None:
            di, dj = found
            return di, dj, oa[di], ob[dj]
        if wanted >= WINDOW or (oa[-1] == len(a) and ob[-1] == len(b)):
            return _count(a, pa), _count(b, pb), len(a), len(b)  # the rest differs
        wanted *= 4


def _count(text: bytes, start: int) -> int:
    """Lines from ``start`` to the end."""
    tail = 1 if len(text) > start and not text.endswith(b"\n") else 0
    return text.count(b"\n", start) + tail


def _search(
    a: bytes, b: bytes, oa: list[int], ob: list[int], window: int
) -> tuple[int, int] | None:
    for total in range(1, window + 1):
        for di in sorted(range(total + 1), key=lambda d: abs(2 * d - total)):
            dj = total - di
            if di >= len(oa) or dj >= len(ob):
                continue
            na, nb = min(di + CONFIRM, len(oa) - 1), min(dj + CONFIRM, len(ob) - 1)
            if na - di != nb - dj:
                continue
            if a[oa[di] : oa[na]] == b[ob[dj] : ob[nb]] and (
                na - di == CONFIRM or (oa[na] == len(a) and ob[nb] == len(b))
            ):
                return di, dj
    return None


def _hunk(group: list[Range], a: bytes, b: bytes) -> list[str]:
    first, last = group[0], group[-1]
    before = _back(a, first.a1, CONTEXT)
    after = _lines(a, last.a2, CONTEXT)
    n_before, n_after = len(before) - 1, len(after) - 1
    head = (f"@@ -{_span(first.i1 - n_before, last.i2 + n_after)}"
            f" +{_span(first.j1 - n_before, last.j2 + n_after)} @@\n")
    out = [head, *_prefixed(" ", a, before[0], first.a1)]
    for i, change in enumerate(group):
        if i:
            out += _prefixed(" ", a, group[i - 1].a2, change.a1)
        out += _prefixed("-", a, change.a1, change.a2)
        out += _prefixed("+", b, change.b1, change.b2)
    return out + _prefixed(" ", a, last.a2, after[-1])


def _back(text: bytes, end: int, count: int) -> list[int]:
    """Starts of up to ``count`` lines before offset ``end`` (a line start), and ``end``."""
    starts = [end]
    while len(starts) <= count and starts[0] > 0:
        starts.insert(0, text.rfind(b"\n", 0, starts[0] - 1) + 1)
    return starts


def _prefixed(mark: str, text: bytes, start: int, end: int) -> list[str]:
    if start >= end:
        return []
    lines = text[start:end].decode("utf-8").split("\n")
    last = lines.pop()
    out = [f"{mark}{line}\n" for line in lines]
    if last:
        out.append(f"{mark}{last}{NO_NEWLINE}")
    return out


def _span(start: int, stop: int) -> str:
    """difflib's range format: ``start,length`` (1-based), ``start`` for one line."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"
