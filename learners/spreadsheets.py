"""CSV files that people open in a spreadsheet.

A cell starting with = + - @ (or a tab or carriage return) is read as a formula
by Excel and LibreOffice: a name such as `=HYPERLINK(…)` typed at sign-up would
run on the manager's computer. Such cells are written with a leading quote, the
spreadsheet convention for « this is text ».
"""

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SpreadsheetWriter:
    """csv.writer, with every text cell neutralised."""

    def __init__(self, stream, **kwargs) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])


class SpreadsheetDictWriter(csv.DictWriter):
    def writerow(self, rowdict: dict[str, Any]):
        return super().writerow({key: neutralise(value) for key, value in rowdict.items()})
