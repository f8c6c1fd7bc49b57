"""Inserting many rows of one model in one statement, faster than QuerySet.bulk_create().

bulk_create() prepares every value of every row through its field (get_db_prep_save) and builds
the statement in Python; for a thousand contacts and their invitations that is most of the time
a bulk registration takes. Here each column goes to PostgreSQL as one array and the rows come
back from ``INSERT ... SELECT FROM unnest(...) RETURNING id``: one statement, a dozen parameters.

Only for models whose values psycopg adapts as they are (text, numbers, booleans, dates and
aware datetimes, foreign keys by id); no JSON fields, no pre_save hooks (auto_now is not applied:
set such values yourself), no signals, as with bulk_create().
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from django.db import connection, models

_UNSUPPORTED = (models.JSONField, models.FileField)


def insert_rows(objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (all of one model, none saved yet) and set their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and getattr(objs[0], f.attname) is None)]
    if any(isinstance(f, _UNSUPPORTED) for f in fields):
        raise TypeError(f"insert_rows() cannot insert {model.__name__}: use bulk_create()")
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in fields)
    values = [[getattr(obj, f.attname) for obj in objs] for f in fields]
    pk = meta.pk
    sql = (
        f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) "  # noqa: S608 - names are ours
        f"SELECT * FROM unnest({arrays}) RETURNING {connection.ops.quote_name(pk.column)}"
    )
    # A plain psycopg cursor on Django's connection (same transaction): it binds the arrays on the
    # server instead of quoting ten thousand values into the statement, as Django's cursor does.
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, values)
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk_value in zip(objs, ids, strict=True):
        setattr(obj, pk.attname, pk_value)
        obj._state.adding = False
        obj._state.db = connection.alias
