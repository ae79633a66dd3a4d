"""Closing the programme: the final evaluation, certificates and what coordinators see once it is
closed.
"""
