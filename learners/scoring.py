"""Scoring frozen questions: pure functions, no database, no request.

`score(question, answer)` returns a fraction between 0 and 1, or None for an
open answer a trainer grades. Answers refer to option and item keys, never to
positions on the page, so shuffling the options cannot change a score.

Answer shapes: single choice / true-false a key; multiple choice a list of
keys; short answer and numeric the text typed; ordering the item keys in the
order the learner put them; open answer the text.
"""

import math
import unicodedata
from typing import Any


def normalise(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a short answer."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def parse_number(text: Any) -> float | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text) if math.isfinite(text) else None
    # French keyboards write 1 800,5: spaces (also non-breaking) group, a comma decimals.
    cleaned = str(text or "").replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    cleaned = cleaned.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


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
        value = parse_number(answer)
        if value is None:
            return 0.0
        # A hair of slack for binary floating point (0.1 + 0.2 against 0.3).
        return 1.0 if abs(value - question["answer"]) <= question["tolerance"] + 1e-9 else 0.0
    if kind == "ordering":
        expected = [item["key"] for item in sorted(question["items"], key=lambda i: int(i["key"]))]
        return 1.0 if _as_key_list(answer) == expected else 0.0
    raise ValueError(f"Unknown question type: {kind}")


def percent(fractions: list[float]) -> int:
    """The score out of 100 of the automatically scored answers (100 when there are none)."""
    if not fractions:
        return 100
    return round(100 * sum(fractions) / len(fractions))
