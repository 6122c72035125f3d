"""A snapshot of what `seed_demo` writes, to copy back instead of seeding again."""

import datetime

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction

Rows = dict[str, tuple[list[str], list[tuple]]]


class DemoRows:
    """What `seed_demo` changed, table by table, to write back in a later test.

    Written back only onto the very rows the seeding started from (the empty test
    database, or the same personas), then read again and compared: anything
    different rolls back to a savepoint and the test seeds as before.
    """

    def __init__(self):
        self.before: dict[str, list[str]] = {}
        self.after: Rows = {}
        self.empty = True

    @staticmethod
    def tables() -> dict[str, str]:
        """Each table and what to select from it.

        SQLite's full-text tables are joined to their entries by rowid, and keep
        shadow tables of their own that follow what is written to them.
        """
        with connection.cursor() as cursor:
            tables = dict.fromkeys(connection.introspection.table_names(cursor), "*")
            if connection.vendor == "sqlite":
                cursor.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")
                for (name,) in cursor.fetchall():
                    tables = {t: c for t, c in tables.items() if not t.startswith(f"{name}_")}
                    tables[name] = "rowid, *"
        tables.pop("django_migrations", None)  # never changes
        return tables

    @classmethod
    def read(cls, tables: dict[str, str] | None = None) -> Rows:
        rows: Rows = {}
        with connection.cursor() as cursor:
            for table, columns in (tables or cls.tables()).items():
                # Names from the schema's introspection, not from input.
                cursor.execute(f"SELECT {columns} FROM {connection.ops.quote_name(table)}")  # noqa: S608
                rows[table] = ([column[0] for column in cursor.description], cursor.fetchall())
        return rows

    @staticmethod
    def signature(rows: Rows) -> dict[str, list[str]]:
        return {table: sorted(map(repr, content)) for table, (_, content) in rows.items()}

    def record(self, before: Rows, after: Rows) -> None:
        self.before = self.signature(before)
        signature = self.signature(after)
        self.after = {t: after[t] for t in after if signature[t] != self.before.get(t)}
        self.empty = False

    @staticmethod
    def writable(row: tuple) -> tuple:
        """SQLite gives back dates and times as Python objects it cannot bind."""
        if connection.vendor != "sqlite":
            return row
        return tuple(
            value.isoformat(" ")
            if isinstance(value, datetime.datetime)
            else value.isoformat()
            if isinstance(value, datetime.date | datetime.time)
            else value
            for value in row
        )

    def replay(self) -> bool:
        if self.empty or self.signature(self.read()) != self.before:
            return False
        quote = connection.ops.quote_name
        tables = self.tables()
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for table, (columns, content) in self.after.items():
                    cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608
                    if content:
                        names = ", ".join(map(quote, columns))
                        marks = ", ".join(["%s"] * len(columns))
                        insert = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608
                        cursor.executemany(insert, map(self.writable, content))
                written = self.read({table: tables[table] for table in self.after})
                if self.signature(written) != self.signature(self.after):
                    raise DatabaseError("the rows read back differ from the seeding's")
        except DatabaseError:
            return False
        # The seeding's saves clear what caches hold of pages and sites; these rows did not.
        cache.clear()
        return True
