"""Statements compiled once and executed on the DBAPI cursor of a SQLAlchemy connection.

`Connection.execute` does, for every execution of even a statement built once, work that
costs several times SQLite's own: the cache key, the execution context, the expansion of
`IN` lists, the result's set-up. A `Prepared` statement does that work once per dialect
(and per length of its `IN` lists): the SQL, the order of its parameters, their bind
processors and the result columns' processors. Executing it then only binds the values,
runs the SQL on the connection's DBAPI cursor and converts the rows — the same values,
of the same types, SQLAlchemy's own execution would give.

What stays as SQLAlchemy does it:
- the transaction: the connection's, begun through SQLAlchemy (`Connection.begin`) if the
  caller has not begun it, so that its commit or rollback covers the statement;
- the engine's `before_cursor_execute` and `after_cursor_execute` listeners see every
  statement, with its SQL and parameters (there is no execution context: None);
- a DBAPI error surfaces as SQLAlchemy's (`OperationalError`, `IntegrityError`…), and a lost
  connection invalidates the pool, through the connection's own error handling.

What does not: the statement is not logged by the engine's `echo`, and the dialect's
`do_execute` events are not run. `bot.horizon` listens there for
changes to the outbox, and ignores the statements of `bot.outbox` and `bot.claims`
(`horizon.harmless`); only such statements, or statements not changing the outbox, may be
prepared. Statements whose parameters are rendered into the SQL (`literal_execute`) or
whose names need escaping are refused, and so are those that leave out a column whose default
SQLAlchemy computes (it would have given a value; here it would be NULL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable

Processor = Callable[[Any], Any] | None


class Outcome:
    """What an execution gave: its rows (tuples, converted as SQLAlchemy converts them;
    empty for a statement that returns none) and the driver's row count (the rows changed,
    for a statement that returns none)."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount


class _Form:
    """The statement as one dialect runs it with `IN` lists of given lengths: its SQL, each
    distinct parameter's source (a name, and an index into the list of an `IN`) and bind
    processor, and the order in which the driver takes them (a name used several times is
    processed once, as SQLAlchemy does)."""

    __slots__ = ("names", "order", "plan", "sql")

    def __init__(self, compiled: SQLCompiler, parameters: Mapping[str, Any]) -> None:
        expanded = compiled.construct_expanded_state(parameters)
        sources = {
            name: (original, index)
            for original, names in expanded.parameter_expansion.items()
            for index, name in enumerate(names)
        }
        dialect = compiled.dialect
        names = list(dict.fromkeys(expanded.positiontup or expanded.parameters))
        plan = []
        for name in names:
            source, index = sources.get(name, (name, None))
            process = compiled.binds[source].type.dialect_impl(dialect).bind_processor(dialect)
            plan.append((source, index, process))
        self.sql = expanded.statement
        self.plan = tuple(plan)
        positions = [names.index(name) for name in expanded.positiontup or ()]
        # None: the parameters are named; or positional, each used once in this order
        self.names = None if expanded.positiontup is not None else tuple(names)
        self.order = None if positions == list(range(len(names))) else tuple(positions)

    def bind(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        bound = []
        for name, index, process in self.plan:
            value = values[name] if index is None else values[name][index]
            bound.append(value if process is None else process(value))
        if self.names is not None:
            return dict(zip(self.names, bound, strict=True))
        if self.order is None:
            return tuple(bound)
        return tuple([bound[position] for position in self.order])


class _Compiled:
    """The statement compiled for one dialect: its parameters' defaults (values given when
    it was built), which of them are `IN` lists, its result processors, and its forms."""

    __slots__ = ("compiled", "defaults", "expanding", "forms", "results")

    def __init__(self, statement: Executable, dialect: Dialect, columns: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        assert isinstance(compiled, SQLCompiler)
        binds = compiled.binds.values()
        if compiled.escaped_bind_names or compiled.literal_execute_params:
            raise ValueError("parameters rendered into the SQL or escaped are not supported")
        if any(not bind.expanding for bind in compiled.post_compile_params):
            raise ValueError("parameters rendered into the SQL are not supported")
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("columns whose defaults SQLAlchemy computes must be given")
        self.compiled = compiled
        self.defaults = {
            name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
        }
        self.expanding = tuple(sorted({bind.key for bind in binds if bind.expanding}))
        columns = getattr(statement, "exported_columns", ())
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        self.results: Sequence[Processor] | None = (
            processors if any(p is not None for p in processors) else None
        )
        self.forms: dict[tuple[int, ...], _Form] = {}

    def form(self, values: Mapping[str, Any]) -> _Form:
        shape = tuple(len(values[name]) for name in self.expanding)
        form = self.forms.get(shape)
        if form is None:
            form = self.forms[shape] = _Form(self.compiled, values)
        return form


class Prepared:
    """A statement (Core, on tables), compiled once per dialect; `execute` runs it.

    `columns`: for an INSERT (or UPDATE) whose values are the parameters themselves, the
    columns they give (what SQLAlchemy would take from the keys of the parameters)."""

    __slots__ = ("_compiled", "columns", "statement")

    def __init__(self, statement: Executable, columns: Sequence[str] = ()) -> None:
        self.statement = statement
        self.columns = tuple(columns)
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, connection: Connection, parameters: Mapping[str, Any]) -> Outcome:
        """Run the statement with `parameters` in `connection`'s transaction."""
        compiled = self._for(connection.dialect)
        values = {**compiled.defaults, **parameters}
        form = compiled.form(values)
        rows, rowcount = _run(connection, form.sql, form.bind(values), many=False)
        results = compiled.results
        if results is not None and rows:
            rows = [
                tuple(
                    value if process is None else process(value)
                    for value, process in zip(row, results, strict=True)
                )
                for row in rows
            ]
        return Outcome(rows, rowcount)

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement (returning nothing) once per parameter set of `rows`, in one call
        to the driver (`executemany`, as SQLAlchemy does on SQLite); every set has the same
        keys, and no `IN` list."""
        compiled = self._for(connection.dialect)
        if compiled.expanding or compiled.results is not None:
            raise ValueError("only a statement without IN lists or rows runs many times")
        form = None
        bound = []
        for row in rows:
            values = {**compiled.defaults, **row}
            form = form or compiled.form(values)
            bound.append(form.bind(values))
        if form is not None:  # one row: executed as SQLAlchemy executes one
            _run(connection, form.sql, bound if len(bound) > 1 else bound[0], len(bound) > 1)

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(
                self.statement, dialect, self.columns
            )
        return compiled


def _run(connection: Connection, sql: str, bound: Any, many: bool) -> tuple[list[Any], int]:
    """Execute on the connection's DBAPI cursor as SQLAlchemy's own execution does: in its
    transaction, seen by the engine's cursor listeners, DBAPI errors wrapped (and a lost
    connection invalidated) by the connection's own handling. Returns the raw rows and the
    row count."""
    if not connection.in_transaction():
        connection.begin()
    dispatch = connection.dispatch
    listened = bool(dispatch.before_cursor_execute) or bool(dispatch.after_cursor_execute)
    cursor = connection.connection.cursor()
    try:
        if listened:
            for listener in dispatch.before_cursor_execute:
                sql, bound = listener(connection, cursor, sql, bound, None, many)
        if many:
            cursor.executemany(sql, bound)
        else:
            cursor.execute(sql, bound)
        if listened:
            dispatch.after_cursor_execute(connection, cursor, sql, bound, None, many)
        rows = cursor.fetchall() if cursor.description is not None else []
        return rows, cursor.rowcount
    except BaseException as error:
        connection._handle_dbapi_exception(error, sql, bound, cursor, None)
    finally:
        cursor.close()
