"""Why the database could not be opened, in one line a person running Maatje can act on.

`maatje run`, `maatje db upgrade` and `maatje export` open the store first; when that fails
the reason is usually outside Maatje (a folder that is not there, a file that is no SQLite
database, another program holding the lock, a typing error in the URL, a PostgreSQL server
that is down). `explain` turns the exception into that reason, with the URL's password
hidden, instead of a traceback; anything it does not recognise is left to propagate.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

SUPPORTED = "sqlite:///path/to/maatje.db or postgresql://user:password@host:5432/name"


def _shown(url: str) -> str:
    """The URL without its password (also when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(re.sub(r"(?<=:)[^:@/]+(?=@)", "***", url))


def _sqlite_path(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return None
    return Path(parsed.database)


def _sqlite(url: str, message: str) -> str | None:
    path = _sqlite_path(url)
    where = str(path) if path else _shown(url)
    if "unable to open database file" in message:
        if path is not None and not path.parent.is_dir():
            return f"the folder {path.parent} does not exist (create it, or change the URL)"
        return f"cannot open {where} (check that Maatje may read and write it and its folder)"
    if "file is not a database" in message:
        return f"{where} is not a SQLite database file (is the URL pointing at the right file?)"
    if "database is locked" in message:
        return (
            f"{where} is locked by another program (another `maatje run`, or an open sqlite3 "
            "session); stop it and try again"
        )
    if "readonly" in message or "read-only" in message:
        return f"{where} is read-only for Maatje"
    return None


def _postgres(url: str, message: str) -> str:
    first = next((line.strip() for line in message.splitlines() if line.strip()), message)
    first = first.removeprefix("connection failed: ")
    return f"cannot use PostgreSQL at {_shown(url)}: {first}"


def explain(exc: BaseException, url: str) -> str | None:
    """One line (prefixed `database:`) for a failure to open or migrate the store at `url`;
    None when `exc` is not such a failure."""
    reason: str | None = None
    if isinstance(exc, ArgumentError) and "URL" in str(exc):
        reason = f"{_shown(url)} is not a database URL; write {SUPPORTED}"
    elif isinstance(exc, NoSuchModuleError | ModuleNotFoundError):
        kind = _shown(url).split(":", 1)[0]
        if kind.startswith("postgres"):
            reason = "the PostgreSQL driver is missing: pip install 'maatje[postgres]'"
        else:
            reason = f"Maatje does not run on {kind!r} databases; write {SUPPORTED}"
    elif isinstance(exc, DBAPIError):
        message = str(exc.orig) if exc.orig is not None else str(exc)
        if (_sqlite_path(url) is not None) or url.startswith("sqlite"):
            reason = _sqlite(url, message)
        elif url.startswith("postgres"):
            reason = _postgres(url, message)
    return f"database: {reason}" if reason else None
