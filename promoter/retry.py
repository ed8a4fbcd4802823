"""Backoff for rejected pushes: bounded attempts, exponential, full jitter.

Sleep and randomness are injectable so tests never sleep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PushRetry:
    attempts: int = 30
    base: float = 0.3
    cap: float = 3.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        return self.random() * min(self.cap, self.base * 2.0 ** min(attempt, 16))

    def wait(self, attempt: int) -> None:
        self.sleep(self.delay(attempt))
