"""Meeting each other: one-to-one and group meetings, reminders, follow-ups and nudges for pairs
that stall.
"""
