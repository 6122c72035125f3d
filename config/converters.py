"""Path converters of the project's URLs."""


class PrimaryKey:
    """A row's id in a URL: digits that fit a database integer.

    Django's « int » takes any number of digits, and a lookup of one past 64 bits
    fails on SQLite with an OverflowError (a 500) instead of finding nothing: 18
    digits always fit, and a longer number matches no pattern (a 404).
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
