"""Joining the programme: the intake (consent first) and the commitment."""
