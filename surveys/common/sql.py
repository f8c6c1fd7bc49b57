"""SQL that the ORM cannot say well is written as whole statements (as zulip's analytics counts
are), with psycopg's ``sql`` module filling in only the lists of column names."""

from __future__ import annotations

from psycopg import sql


def columns(template: str, names: list[str]) -> sql.Composed:
    """``template`` for each column of ``names``, comma-separated: ``columns("SUM({0}) AS {0}", ["n"])``."""
    return sql.SQL(", ").join(sql.SQL(template).format(sql.Identifier(name)) for name in names)


def statement(template: str, **parts: sql.Composable) -> str:
    """The statement ``template`` with its ``{parts}`` filled in, as the string Django executes."""
    return sql.SQL(template).format(**parts).as_string(None)
