"""Helpers for the fault-injection suite (tests/test_faults_*.py): a fake Slack that can be
told to break for a while, `maatje run` processes, a PostgreSQL server that can be halted, and
a dispatch worker to SIGKILL."""
