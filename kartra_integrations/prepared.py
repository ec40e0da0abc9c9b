"""The project's hand-written SQL: querysets compiled to SQL once per database, then run with fresh
parameters; an insert that skips a row already there in one statement; and a bulk insert of many
rows bound server-side (`rows_insert`).

Every API call looks up its credential and usually a lead by an indexed key. PostgreSQL answers such
a lookup in microseconds (a prepared statement, see settings `database()`), but building the queryset
and compiling it (joins, the column list, the WHERE clause) costs the ORM about half a millisecond
each time, for SQL that never changes. A PreparedQuery pays that once per process.

    _by_key = PreparedQuery(lambda key: Credential.objects.filter(api_key=key), key="{api_key}")
    _by_key.get(key="ki_123")    # a Credential or None
    _by_key.rows(key="ki_123")   # the raw rows

`build` receives one sentinel per parameter and must pass each to the SQL unchanged (an equality on
an int or string column; pick a sentinel that string functions like lower() leave as it is). The
sentinels are found among the compiled parameters and swapped for the caller's values on each run.

A write that must also find its rows and read a document in one round trip is one WITH statement
composed of `Sql` pieces: compiled queries (`PreparedQuery.sql`, a parameter swapped for a column of
another piece), inserts built from the models' meta (`insert_select_sql`), JSON built in Python about
a row the statement finds (`json_sql`); `statement_rows` runs it.
"""

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar, cast

import psycopg
from django.core.exceptions import ImproperlyConfigured, MultipleObjectsReturned
from django.db import connection, connections, models, router, transaction
from django.db.models import AutoField, BigAutoField, Field, Lookup
from django.db.models.query import get_related_populators


@Field.register_lookup
class AnyOf(Lookup):
    """`field__any=[...]`: `field = ANY(%s)`, the list bound as one array. `__in` writes one
    placeholder per value, so every batch size is a new statement for psycopg to convert and for
    PostgreSQL to prepare (settings: prepare_threshold); this is one statement whatever the size."""

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        values = [self.lhs.output_field.get_db_prep_value(v, connection, prepared=False) for v in value]
        if connection.vendor != "postgresql":  # no arrays (SQLite, `make run`): a placeholder per value
            return ", ".join(["%s"] * len(values)) or "NULL", values
        return "%s", [values]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor != "postgresql":
            return f"{lhs} IN ({rhs})", [*lhs_params, *rhs_params]
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


class _Compiled:
    def __init__(self, queryset: models.QuerySet, alias: str, sentinels: dict[str, Any]):
        self.compiler = queryset.query.get_compiler(using=alias)
        self.sql, params = self.compiler.as_sql()
        names_by_sentinel = {_sentinel_key(value): name for name, value in sentinels.items()}
        # Each parameter: ("value", constant) or ("name", parameter name).
        self.params = [
            ("name", names_by_sentinel[_sentinel_key(param)])
            if _is_sentinel(param, names_by_sentinel)
            else ("value", param)
            for param in params
        ]
        missing = set(sentinels) - {value for kind, value in self.params if kind == "name"}
        if missing:
            raise ImproperlyConfigured(f"parameters {sorted(missing)} did not reach the compiled SQL unchanged")

    def bind(self, values: Mapping[str, Any]) -> list:
        return _bind(self.params, values)


def _bind(params: Sequence[tuple[str, Any]], values: Mapping[str, Any]) -> list:
    return [values[value] if kind == "name" else value for kind, value in params]


_PLACEHOLDER = re.compile(r"%%|%s")


@dataclass(frozen=True)
class Sql:
    """SQL text with its parameters, each a constant ("value", v) or a name bound at each run
    ("name", n): pieces that `+` joins into one statement (see PreparedQuery.sql)."""

    text: str
    params: tuple[tuple[str, Any], ...] = ()

    def __add__(self, other: "Sql | str") -> "Sql":
        if isinstance(other, str):
            return Sql(self.text + other, self.params)
        return Sql(self.text + other.text, self.params + other.params)

    def __radd__(self, other: str) -> "Sql":
        return Sql(other + self.text, self.params)

    def bind(self, values: Mapping[str, Any]) -> list:
        return _bind(self.params, values)


def sql_param(name: str, cast: str = "") -> Sql:
    """A parameter bound by name at each run; `cast` where nothing else gives it a type."""
    return Sql(f"%s::{cast}" if cast else "%s", (("name", name),))


def sql_join(pieces: Sequence[Sql | str], separator: str = ", ") -> Sql:
    joined = Sql("")
    for position, piece in enumerate(pieces):
        joined = joined + (separator if position else "") + piece
    return joined


def _as_sql(compiled: _Compiled, expressions: Mapping[str, str], prefix: str) -> Sql:
    """The compiled query as Sql, each parameter named in `expressions` replaced by that SQL
    expression (a column of another part of the statement), the others' names prefixed."""
    params = iter(compiled.params)
    kept: list[tuple[str, Any]] = []

    def swap(match: re.Match) -> str:
        if match.group() == "%%":
            return "%%"
        kind, value = next(params)
        if kind == "name" and value in expressions:
            return expressions[value]
        kept.append((kind, prefix + value if kind == "name" else value))
        return "%s"

    return Sql(_PLACEHOLDER.sub(swap, compiled.sql), tuple(kept))


class _CompiledModelQuery(_Compiled):
    """Also what Django's ModelIterable works out per query to turn a row into instances."""

    def __init__(self, queryset: models.QuerySet, alias: str, sentinels: dict[str, Any]):
        super().__init__(queryset, alias, sentinels)
        compiler = self.compiler
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model_slice = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[self.model_slice]]
        # django-stubs 6 describes Django 6's signature (a fetch_mode argument); Django 5.2 has none.
        self.related_populators = get_related_populators(klass_info, select, alias)  # type: ignore[call-arg]
        self.converters = compiler.get_converters([column[0] for column in select])

    def instance(self, alias: str, row: tuple) -> models.Model:
        if self.converters:
            row = next(iter(self.compiler.apply_converters([row], self.converters)))
        obj = self.model.from_db(alias, self.init_list, row[self.model_slice])
        for populator in self.related_populators:
            populator.populate(row, obj)
        return obj


M = TypeVar("M", bound=models.Model)
C = TypeVar("C", bound=_Compiled)


class PreparedQuery(Generic[M]):
    def __init__(self, build: Callable[..., models.QuerySet[M]], **sentinels: Any):
        self._build = build
        self._sentinels = sentinels
        self._compiled: dict[tuple[str, type], _Compiled] = {}
        self._model: type[models.Model] | None = None

    def _model_of(self) -> type[models.Model]:
        if self._model is None:
            self._model = self._build(**self._sentinels).model
        return self._model

    def _for(self, alias: str | None, kind: type[C]) -> tuple[str, C]:
        if alias is None:
            alias = router.db_for_read(self._model_of())
        key = (alias, kind)
        if key not in self._compiled:
            self._compiled[key] = kind(self._build(**self._sentinels), alias, self._sentinels)
        return alias, cast(C, self._compiled[key])  # stored under its own kind

    def rows(self, *, using: str | None = None, **values: Any) -> list[tuple]:
        """The query's rows as the database returns them (no converters applied)."""
        alias, compiled = self._for(using, _Compiled)
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, compiled.bind(values))
            return cursor.fetchall()

    def get(self, *, using: str | None = None, **values: Any) -> M | None:
        """The one matching instance (with its select_related objects), or None."""
        alias, compiled = self._for(using, _CompiledModelQuery)
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, compiled.bind(values))
            rows = cursor.fetchmany(2)
        if len(rows) > 1:
            raise MultipleObjectsReturned(f"more than one {compiled.model.__name__} matched")
        return cast(M, compiled.instance(alias, rows[0])) if rows else None

    def instances(self, *, using: str | None = None, **values: Any) -> list[M]:
        """Every matching instance (with its select_related objects), in the query's order. Without
        arrays (SQLite, `make run`) a list parameter is one placeholder per item, so the statement
        differs with its length: there the queryset is built for these values and run as it is."""
        alias = using or router.db_for_read(self._model_of())
        if connections[alias].vendor != "postgresql" and any(isinstance(v, list) for v in values.values()):
            return list(self._build(**values).using(alias))
        _, compiled = self._for(alias, _CompiledModelQuery)
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, compiled.bind(values))
            return [cast(M, compiled.instance(alias, row)) for row in cursor.fetchall()]

    def sql(self, *, using: str | None = None, prefix: str = "", **expressions: str) -> Sql:
        """The query as a piece of a larger statement: parameters named in `expressions` replaced
        by those SQL expressions, the others named `prefix` + their name."""
        return _as_sql(self._for(using, _Compiled)[1], expressions, prefix)

    def width(self, *, using: str | None = None) -> int:
        """How many columns the query selects."""
        return len(self._for(using, _CompiledModelQuery)[1].compiler.select)

    def instance(self, row: Sequence, *, using: str | None = None) -> M | None:
        """The instance from a row that starts with this query's columns (None when they are NULL:
        an outer join that found nothing)."""
        alias, compiled = self._for(using, _CompiledModelQuery)
        if row[0] is None:
            return None
        return cast(M, compiled.instance(alias, tuple(row[: self.width(using=alias)])))


def _sentinel_key(value: Any) -> Any:
    """A list sentinel (the array of a `field__any` lookup, e.g. `lead_ids=[-1]`) is known by its items."""
    return tuple(value) if isinstance(value, list) else value


def _is_sentinel(param: Any, names_by_sentinel: dict) -> bool:
    key = _sentinel_key(param)
    return isinstance(key, int | str | tuple) and not isinstance(key, bool) and key in names_by_sentinel


def _column(field: models.Field) -> str:
    """A concrete field's column (django-stubs types it optional, for fields without one)."""
    assert field.column is not None
    return field.column


def _insert_columns(model: type[models.Model]) -> list[models.Field]:
    # Every column but a primary key the database generates; names from the model's meta.
    return [field for field in model._meta.concrete_fields if not (field.primary_key and field.db_returning)]


@cache
def _insert_sql(model: type[models.Model], alias: str, skip_conflicts: bool) -> tuple[str, list]:
    quote = connections[alias].ops.quote_name
    fields = _insert_columns(model)
    table, columns = quote(model._meta.db_table), ", ".join(quote(_column(field)) for field in fields)
    placeholders, pk = ", ".join(["%s"] * len(fields)), quote(_column(model._meta.pk))
    on_conflict = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}){on_conflict} RETURNING {pk}"  # noqa: S608
    return sql, fields


@cache
def _insert_pair_sql(model: type[models.Model], then: type[models.Model], alias: str) -> tuple[str, list, list]:
    """INSERT of `model` unless present, and of `then` only if it was: one statement."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    first_sql, first_fields = _insert_sql(model, alias, True)
    then_fields = _insert_columns(then)
    columns = ", ".join(quote(_column(field)) for field in then_fields)
    # Cast: a parameter in a SELECT list has no column type to take its type from.
    values = ", ".join(f"%s::{field.cast_db_type(connection)}" for field in then_fields)
    sql = (
        f"WITH inserted AS ({first_sql}), "  # noqa: S608 (identifiers from the models' meta)
        f"followed AS (INSERT INTO {quote(then._meta.db_table)} ({columns}) SELECT {values} FROM inserted) "
        "SELECT * FROM inserted"
    )
    return sql, first_fields, then_fields


def insert_select_sql(
    model: type[models.Model],
    *,
    name: str,
    source: str = "",
    columns: Mapping[str, Sql | str] | None = None,
    skip_conflicts: bool = False,
    on_conflict: Sql | None = None,
    using: str = "default",
) -> Sql:
    """`INSERT INTO <model's table> SELECT ... [FROM <source>]`, a piece of a WITH statement: each
    column from `columns` (attname -> SQL) when given, else the parameter "<name>.<attname>"
    (insert_params gives them). `on_conflict` is what follows ON CONFLICT (`skip_conflicts`: DO
    NOTHING). Returns the primary key of each row written."""
    columns = columns or {}
    connection = connections[using]
    quote = connection.ops.quote_name
    fields = _insert_columns(model)
    values = [
        columns.get(field.attname) or sql_param(f"{name}.{field.attname}", field.cast_db_type(connection) or "")
        for field in fields
    ]
    if skip_conflicts:
        on_conflict = Sql("DO NOTHING")
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(_column(field)) for field in fields)}) SELECT "  # noqa: S608 (identifiers from the models' meta)
        + sql_join(values)
        + (f" FROM {source}" if source else "")
        + (" ON CONFLICT " + on_conflict if on_conflict else "")
        + f" RETURNING {quote(_column(model._meta.pk))}"
    )


def insert_params(obj: models.Model, *, name: str, using: str = "default") -> dict[str, Any]:
    """The parameters of insert_select_sql(type(obj), name=name, ...) for this row."""
    fields = _insert_columns(type(obj))
    values = _values(obj, fields, connections[using])
    return {f"{name}.{field.attname}": value for field, value in zip(fields, values, strict=True)}


def insert_if_absent_reading(
    obj: models.Model, read: Callable[[str], Sql], values: Mapping[str, Any]
) -> list[tuple] | None:
    """insert_if_absent(obj) and, in the same statement, the rows of the query `read(<the new
    primary key as SQL>)` (its parameters bound from `values`; the same Sql for the same argument,
    e.g. cached); None, and nothing inserted, when a row with the same unique key was there.
    PostgreSQL only. The query reads the statement's snapshot: rows the insert adds are not in it."""
    alias = router.db_for_write(type(obj))
    pk = connections[alias].ops.quote_name(_column(obj._meta.pk))
    statement = _insert_reading_sql(type(obj), alias, read(f"(SELECT {pk} FROM inserted)"))  # noqa: S608 (its own name)
    rows = statement_rows(statement, {**values, **insert_params(obj, name="row", using=alias)}, using=alias)
    if not rows:
        return None
    _inserted(obj, rows[0][:1], alias)
    return [row[1:] for row in rows]


@cache  # built once per model and query: composing it costs more than running it
def _insert_reading_sql(model: type[models.Model], alias: str, read: Sql) -> Sql:
    pk = connections[alias].ops.quote_name(_column(model._meta.pk))
    return (
        "WITH inserted AS ("  # noqa: S608 (identifiers from the models' meta)
        + insert_select_sql(model, name="row", skip_conflicts=True, using=alias)
        + f") SELECT inserted.{pk}, read.* FROM inserted LEFT JOIN ("  # noqa: S608
        + read
        + ") read ON true"
    )


def statement_rows(statement: Sql, values: Mapping[str, Any], *, using: str = "default") -> list[tuple]:
    """Run a statement composed of Sql pieces with these named values: its rows as the database returns
    them. One statement is atomic by itself: outside a transaction, no BEGIN and COMMIT round trips."""
    with transaction.get_connection(using).cursor() as cursor:
        cursor.execute(statement.text, statement.bind(values))
        return cursor.fetchall()


def json_sql(value: Any, stand_ins: Mapping[Any, str]) -> Sql:
    """`value` (a JSON document built in Python) as a jsonb expression in which every leaf equal to
    a stand-in is that SQL expression instead: a document whose rule lives in Python (an event's
    details) about a row the statement itself finds."""
    if isinstance(value, dict):
        return (
            "jsonb_build_object("
            + sql_join(
                [Sql("%s::text", (("value", key),)) + ", " + json_sql(item, stand_ins) for key, item in value.items()]
            )
            + ")"
        )
    if isinstance(value, int | str) and not isinstance(value, bool) and value in stand_ins:
        return Sql(f"to_jsonb({stand_ins[value]})")
    return Sql("%s::jsonb", (("value", json.dumps(value)),))


def _values(obj: models.Model, fields: list[models.Field], connection) -> list:
    return [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields]


def _inserted(obj: models.Model, row: tuple | None, alias: str) -> bool:
    if row is None:
        return False
    if obj._meta.pk.db_returning:
        obj.pk = row[0]
    obj._state.adding, obj._state.db = False, alias
    return True


def _insert(obj: models.Model, *, skip_conflicts: bool) -> bool:
    alias = router.db_for_write(type(obj))
    connection = transaction.get_connection(alias)
    sql, fields = _insert_sql(type(obj), alias, skip_conflicts)
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(obj, fields, connection))
        return _inserted(obj, cursor.fetchone(), alias)


def insert(obj: models.Model) -> None:
    """obj.save() for a new row, without the ORM building the INSERT again for every row (one
    compiled statement per model; no signals, which this project does not use)."""
    _insert(obj, skip_conflicts=False)


def insert_if_absent(obj: models.Model, *, then: models.Model | None = None) -> bool:
    """Insert `obj` unless a row with the same unique key exists: True (and obj.pk set) when inserted.

    One statement where get_or_create takes four (SELECT, SAVEPOINT, INSERT, RELEASE), and no race
    between the look and the insert. `then` (a row whose primary key is set in Python, such as a
    lead event) is inserted with it, and only when `obj` was. On PostgreSQL both are one statement,
    atomic by itself: outside a transaction it commits without the BEGIN and COMMIT round trips.
    """
    if then is None:
        return _insert(obj, skip_conflicts=True)
    if then._meta.pk.db_returning:
        raise ImproperlyConfigured(f"{type(then).__name__}'s primary key must be set in Python to follow an insert")
    alias = router.db_for_write(type(obj))
    connection = transaction.get_connection(alias)
    if connection.vendor != "postgresql":  # no INSERT inside WITH: two statements, one transaction
        with transaction.atomic(using=alias):
            inserted = _insert(obj, skip_conflicts=True)
            if inserted:
                _insert(then, skip_conflicts=False)
        return inserted
    sql, fields, then_fields = _insert_pair_sql(type(obj), type(then), alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(obj, fields, connection) + _values(then, then_fields, connection))
        inserted = _inserted(obj, cursor.fetchone(), alias)
    if inserted:
        then._state.adding, then._state.db = False, alias
    return inserted


@cache  # per model: the column types cost more to work out than the insert takes to run
def _rows_insert_sql(model: type[models.Model]) -> tuple[str, list[models.Field], bool]:
    """rows_insert's statement, its fields in order, and whether the database makes the primary key."""
    meta = model._meta
    generated = isinstance(meta.pk, AutoField | BigAutoField)
    fields = [f for f in meta.concrete_fields if not (generated and f.primary_key)]
    # Plain values dumped in binary (%b): text-format arrays escape every quote of every body with a regex.
    # Identifiers and types come from the model's meta, values are bound parameters.
    sql = (
        f"INSERT INTO {meta.db_table} ({', '.join(connection.ops.quote_name(_column(f)) for f in fields)}) "  # noqa: S608
        f"SELECT * FROM unnest({', '.join(f'%b::{f.cast_db_type(connection)}[]' for f in fields)})"
    )
    if generated:
        sql += f" RETURNING {connection.ops.quote_name(_column(meta.pk))}"
    return sql, fields, generated


def rows_insert(*batches: Sequence[models.Model]) -> None:
    """bulk_create of each batch (the rows of one model; a later batch may refer to an earlier one's):
    primary keys the database makes are set on the rows. On PostgreSQL ONE statement for them all,
    each batch an INSERT ... SELECT FROM unnest() bound server-side, the earlier ones in WITH (one
    round trip). Django binds client-side there, quoting every value in Python: the hook relay's two
    inserts (500 bodies of ~800 bytes, 1,000 deliveries) were 14 % of the dispatcher's CPU. For models
    of plain values (uuid, int, str, aware datetime); only the last batch's keys may be the database's."""
    batches = tuple(batch for batch in batches if batch)
    if not batches:
        return
    if connection.vendor != "postgresql":
        for batch in batches:
            type(batch[0])._default_manager.bulk_create(batch, batch_size=1000)
        return
    inserts, columns = [], []
    for batch in batches:
        sql, fields, generated = _rows_insert_sql(type(batch[0]))
        assert batch is batches[-1] or not generated, "a statement returns the keys of its last insert only"
        inserts.append(sql)
        columns += [[f.pre_save(row, True) for row in batch] for f in fields]
    *earlier, last = inserts
    statement = "".join(f"{'WITH' if n == 0 else ','} batch{n} AS ({sql}) " for n, sql in enumerate(earlier)) + last
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(statement, columns)
        if generated:
            for row, (pk,) in zip(batches[-1], cursor.fetchall(), strict=True):
                row.pk = pk
