"""A throwaway PostgreSQL server for the test session, started from the machine's binaries.

PostgreSQL refuses to run as root, so when the tests run as root the cluster is created and
started as the `postgres` user. Each test gets a fresh database cloned from a migrated template.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg


def find_bindir() -> Path:
    candidates = [os.environ.get("MAATJE_PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    which = shutil.which("pg_ctl")
    if which:
        candidates.append(str(Path(which).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; `make test` installs them "
        "(Debian package postgresql), or set MAATJE_PG_BINDIR"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.base = Path(tempfile.mkdtemp(prefix="maatje-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        self.template = "maatje_template"

    def _run(self, *args: str) -> None:
        kwargs = {}
        if self.user:
            entry = pwd.getpwnam(self.user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid}
        subprocess.run(args, check=True, capture_output=True, cwd=self.base, **kwargs)

    def start(self) -> None:
        os.chmod(self.base, 0o755)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        initdb = str(self.bindir / "initdb")
        self._run(
            initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
        )
        self._pg_ctl_start()

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args)

    def _pg_ctl_start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._pg_ctl("-o", options, "-l", str(self.base / "server.log"), "-w", "start")

    def stop(self) -> None:
        try:
            self._pg_ctl("-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start the server again (the data stays)."""
        self._pg_ctl("-m", "fast", "-w", "stop")
        self._pg_ctl_start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def prepare_template(self) -> None:
        from bot.store import Store

        self._admin(f"CREATE DATABASE {self.template}")
        store = Store(self.url(self.template))
        store.upgrade()
        store.dispose()

    def fresh_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        self._admin(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return self.url(name)
