"""The safety net over everything people write to Maatje (docs/safeguarding.md): phrase lists
(phrases.py and phrases-*.txt), what happens on a hit or on 'hulp' / 'help now' (net.py), and
what coordinators see (coordinators.py)."""

from flows.safeguarding.coordinators import pair_notes, safeguarding_command, status_lines
from flows.safeguarding.net import ANSWER, SafetyNet

__all__ = ["ANSWER", "SafetyNet", "pair_notes", "safeguarding_command", "status_lines"]
