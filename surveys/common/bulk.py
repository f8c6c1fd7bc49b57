"""Inserting many rows of one model with COPY, much faster than QuerySet.bulk_create().

bulk_create() prepares every value of every row through its field (get_db_prep_save) and builds
one long INSERT in Python; for a thousand contacts and their invitations that was most of the
time a bulk registration took. Here the primary keys are drawn from the table's sequence in one
query and the rows are streamed with COPY, PostgreSQL's fastest way in. It runs on Django's
connection, inside the caller's transaction; constraints are checked as for any insert, and a
violation raises Django's IntegrityError.

Only for models whose values psycopg adapts as they are (text, numbers, booleans, dates and
aware datetimes, foreign keys by id, str-based choices); no JSON or file fields, no pre_save
hooks (auto_now is not applied: set such values yourself) and no signals, as with bulk_create().
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

_UNSUPPORTED = (models.JSONField, models.FileField)


def insert_rows(objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (all of one model, none saved yet, without primary keys) and set their
    primary keys."""
    if not objs:
        return
    model = type(objs[0])
    meta, pk = model._meta, model._meta.pk
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    if any(isinstance(f, _UNSUPPORTED) for f in fields):
        raise TypeError(f"insert_rows() cannot insert {model.__name__}: use bulk_create()")
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join([quote(pk.column), *(quote(f.column) for f in fields)])
    attnames = [f.attname for f in fields]
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk_value, obj in zip(ids, objs, strict=True):
                values = obj.__dict__
                copy.write_row((pk_value, *(values[name] for name in attnames)))
    for pk_value, obj in zip(ids, objs, strict=True):
        setattr(obj, pk.attname, pk_value)
        obj._state.adding = False
        obj._state.db = connection.alias
