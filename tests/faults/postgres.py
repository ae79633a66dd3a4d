"""A PostgreSQL server of its own for the restart test, which can also stay down a moment.

`PostgresServer.restart()` stops and starts in one call; an outage needs the two halves apart,
so that the test can send events while the server is down.
"""

from __future__ import annotations

from tests.pg_server import PostgresServer


class HaltablePostgres(PostgresServer):
    def _ctl(self, *args: str) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args)

    def halt(self) -> None:
        """Stop at once, dropping every connection (the data stays)."""
        self._ctl("-m", "fast", "-w", "stop")

    def resume(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c max_connections=200"
        )
        self._ctl("-o", options, "-l", str(self.base / "server.log"), "-w", "start")
