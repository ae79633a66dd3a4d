"""Polls and questionnaires (built-in ones in questionnaires/) and the mentors' quarterly self-
evaluation.
"""
