"""The safety net over everything people write to Maatje (docs/safeguarding.md): phrase lists
(phrases.py and phrases-*.txt), what happens on a hit or on 'hulp' / 'help now' (net.py: the
reply at once in crisis.py, the follow-up question in answers.py, the coordinators told in
notices.py), and what coordinators see (coordinators.py)."""

from flows.safeguarding.answers import ANSWER
from flows.safeguarding.coordinators import pair_notes, safeguarding_command, status_lines
from flows.safeguarding.net import SafetyNet

__all__ = ["ANSWER", "SafetyNet", "pair_notes", "safeguarding_command", "status_lines"]
