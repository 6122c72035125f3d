"""Accent- and case-insensitive name search: « helene » finds « Hélène », « coeur » finds
« Cœur », on PostgreSQL (its `unaccent` extension) and SQLite (a Python function) alike.

Fold both sides in the database (`Folded(Value(term))`): unaccent's rules and Python's
decomposition differ on a few letters (« ’ », « ł », « ø »), and a term folded one way
would miss a name folded the other."""

import unicodedata

from django.db.models import Func, TextField

# Letters that NFKD leaves whole but PostgreSQL's unaccent spells out.
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
SQLITE_FUNCTION = "campus_fold"


def fold(text: str | None) -> str:
    """`text` lower-cased, without accents: what `Folded` makes of a column on SQLite."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


class Folded(Func):
    """A text column as `fold` writes it, to compare with a folded search term."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="LOWER(unaccent(%(expressions)s))", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function=SQLITE_FUNCTION, **extra_context)


def register_sqlite_function(sender, connection, **kwargs) -> None:
    """Give each SQLite connection the function `Folded` calls (connection_created)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 1, fold, deterministic=True)
