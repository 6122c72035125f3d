"""Scoring frozen questions: pure functions, no database, no request.

`score(question, answer)` returns a fraction between 0 and 1, or None for an
open answer a trainer grades. Answers refer to option and item keys, never to
positions on the page, so shuffling the options cannot change a score.

Answer shapes: single choice / true-false a key; multiple choice a list of
keys; short answer and numeric the text typed; ordering the item keys in the
order the learner put them; open answer the text.
"""

import math
import re
import unicodedata
from typing import Any

# Phones and word processors type « ’ » for the apostrophe and « – » for a hyphen: a
# learner writing « l’association » means the accepted « l'association ».
_TYPOGRAPHIC = str.maketrans(
    {**dict.fromkeys("’‘ʼ´`′", "'"), **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-")}
)


def normalise(text: str) -> str:
    """Case-, accent-, spacing- and typography-insensitive form of a short answer."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_TYPOGRAPHIC))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


_SPACES = str.maketrans("", "", " \xa0\u202f")
_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(?:(?P<sep>[.,])\d{3})(?:(?P=sep)\d{3})*")


def number_readings(text: Any) -> list[float]:
    """Every value a typed number can honestly mean, most likely first.

    French writes 1 800,5 (spaces group, a comma decimals) but also 1.800 for
    one thousand eight hundred, and English pages read 1,800 the same way: a
    single separator followed by exactly three digits could be either, so both
    readings are returned and the learner gets the benefit of the doubt.
    """
    if isinstance(text, bool):
        return []
    if isinstance(text, int | float):
        return [float(text)] if math.isfinite(text) else []
    cleaned = str(text or "").translate(_SPACES)
    readings = []
    if _GROUPED.fullmatch(cleaned):
        readings.append(cleaned.replace(".", "").replace(",", ""))
    if "." in cleaned and "," in cleaned:
        # The last separator marks the decimals, the other one groups: 1.800,5 or 1,800.5.
        decimal = "," if cleaned.rindex(",") > cleaned.rindex(".") else "."
        whole, _sep, fraction = cleaned.rpartition(decimal)
        grouping = "." if decimal == "," else ","
        if _GROUPED.fullmatch(whole) or re.fullmatch(r"[+-]?\d{1,3}", whole):
            readings.append(whole.replace(grouping, "") + "." + fraction)
    elif cleaned.count(",") + cleaned.count(".") <= 1:
        readings.append(cleaned.replace(",", "."))
    values = []
    for reading in readings:
        try:
            value = float(reading)
        except ValueError:
            continue
        if math.isfinite(value) and value not in values:
            values.append(value)
    return values


def parse_number(text: Any) -> float | None:
    readings = number_readings(text)
    return readings[0] if readings else None


def _keys(question: dict) -> set[str]:
    return {option["key"] for option in question.get("options", [])}


def _correct_keys(question: dict) -> set[str]:
    return {option["key"] for option in question.get("options", []) if option["correct"]}


def _as_key_list(answer: Any) -> list[str]:
    if answer is None:
        return []
    if isinstance(answer, str):
        return [answer]
    if isinstance(answer, list | tuple):
        return [str(item) for item in answer]
    return []


def score(question: dict, answer: Any) -> float | None:
    kind = question["type"]
    if kind == "open":
        return None
    if kind in ("single_choice", "true_false"):
        picked = _as_key_list(answer)
        return 1.0 if len(picked) == 1 and picked[0] in _correct_keys(question) else 0.0
    if kind == "multiple_choice":
        picked = set(_as_key_list(answer)) & _keys(question)
        if len(picked) != len(_as_key_list(answer)):
            return 0.0  # a repeated or unknown key is not an honest answer
        correct = _correct_keys(question)
        if question.get("scoring") == "partial" and correct:
            # Each right pick earns 1/|correct|, each wrong pick takes as much back:
            # ticking everything never pays, and only the exact set earns 1.
            earned = len(picked & correct) - len(picked - correct)
            return max(0.0, earned / len(correct))
        return 1.0 if picked == correct else 0.0
    if kind == "short_answer":
        given = normalise(answer if isinstance(answer, str) else "")
        accepted = {normalise(text) for text in question.get("accepted_answers", [])}
        return 1.0 if given and given in accepted else 0.0
    if kind == "numeric":
        # A hair of slack for binary floating point (0.1 + 0.2 against 0.3).
        return (
            1.0
            if any(
                abs(value - question["answer"]) <= question["tolerance"] + 1e-9
                for value in number_readings(answer)
            )
            else 0.0
        )
    if kind == "ordering":
        expected = [item["key"] for item in sorted(question["items"], key=lambda i: int(i["key"]))]
        return 1.0 if _as_key_list(answer) == expected else 0.0
    raise ValueError(f"Unknown question type: {kind}")


def percent(fractions: list[float]) -> int:
    """The score out of 100 of the automatically scored answers (100 when there are none).

    Rounded down, never to the nearest: pass marks are whole numbers, so a score
    shown as meeting one always does (87.5 % is shown 87 and fails a pass mark of
    88, where rounding would have shown and passed 88).
    """
    if not fractions:
        return 100
    # The epsilon keeps 0.7 * 100 = 69.99999999999999 at 70.
    return math.floor(100 * sum(fractions) / len(fractions) + 1e-9)
