"""Crash points for the fault-injection tests.

`crash_point("sent")` does nothing unless the environment says to die there:
MAATJE_CRASH_AT=<point> and MAATJE_CRASH_AFTER=<n> kill the process with SIGKILL the n-th
time (default the first) it passes that point. Nothing else in the code reads these.
"""

from __future__ import annotations

import os
import signal

_passed: dict[str, int] = {}


def crash_point(name: str) -> None:
    if os.environ.get("MAATJE_CRASH_AT") != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] >= int(os.environ.get("MAATJE_CRASH_AFTER", "1")):
        os.kill(os.getpid(), signal.SIGKILL)
