"""Quiz definitions as data: the frozen form of a question, and checks on authored ones.

An attempt stores `question_snapshot(...)` for each question it drew, so later
edits of the page never change what a learner was asked or how it is scored.
"""

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

AUTO_SCORED = {
    "single_choice",
    "multiple_choice",
    "true_false",
    "short_answer",
    "numeric",
    "ordering",
}
CHOICE_TYPES = {"single_choice", "multiple_choice", "true_false"}


def _item_ids(list_value) -> list[str]:
    # ListBlock items carry their own UUID once saved; a value built in code may not.
    bound = getattr(list_value, "bound_blocks", None)
    if bound is None:
        return [str(index) for index in range(len(list_value))]
    return [item.id or str(index) for index, item in enumerate(bound)]


def question_snapshot(child) -> dict[str, Any]:
    """The frozen, JSON-ready form of one StreamField question (a StreamChild)."""
    value = child.value
    snapshot: dict[str, Any] = {
        "id": str(child.id),
        "type": child.block_type,
        "competence": value["competence"],
        "level": value["level"],
        "text": value["text"],
        "explanation": value.get("explanation") or "",
    }
    if child.block_type in CHOICE_TYPES:
        snapshot["options"] = [
            {
                "key": key,
                "text": option["text"],
                "correct": bool(option["correct"]),
                "feedback": option.get("feedback") or "",
            }
            for key, option in zip(_item_ids(value["options"]), value["options"], strict=True)
        ]
        if not snapshot["options"]:
            # Nothing to pick: the learner could neither answer nor be scored fairly.
            raise ValueError("a choice question without options")
    if child.block_type == "multiple_choice":
        snapshot["scoring"] = value.get("scoring") or "all_or_nothing"
    elif child.block_type == "short_answer":
        snapshot["accepted_answers"] = list(value["accepted_answers"])
    elif child.block_type == "numeric":
        snapshot["answer"] = float(value["answer"])
        snapshot["tolerance"] = float(value.get("tolerance") or 0)
    elif child.block_type == "ordering":
        # Keys are the correct positions; the attempt shuffles the display order.
        snapshot["items"] = [
            {"key": str(position), "text": text} for position, text in enumerate(value["items"])
        ]
        if not snapshot["items"]:
            raise ValueError("an ordering question without items")
    elif child.block_type == "open":
        snapshot["allow_file"] = bool(value.get("allow_file"))
    return snapshot


def question_snapshots(stream: Iterable) -> list[dict[str, Any]]:
    """`question_snapshot` of each question, leaving out (and logging) a malformed one.

    Publishing refuses an incomplete question (`incomplete_questions`); a quiz
    published before that check, or written in code, must still not stop every
    learner's attempt with an error.
    """
    snapshots = []
    for number, child in enumerate(stream, start=1):
        try:
            snapshots.append(question_snapshot(child))
        except (KeyError, TypeError, ValueError) as error:
            logger.warning("Question %s (%s) left out of the attempt: %r", number, child.id, error)
    return snapshots


def incomplete_questions(stream: Iterable) -> list[str]:
    """Messages for questions their own blocks refuse.

    Wagtail lets a draft keep a question half written (it defers required fields
    until publishing); whatever publishes it must find out here.
    """
    errors = []
    for number, child in enumerate(stream, start=1):
        try:
            child.block.clean(child.value)
        except ValidationError as error:
            fields = getattr(child.block, "child_blocks", {})
            names = getattr(error, "block_errors", None) or {}
            labels = [str(fields[name].label) for name in names if name in fields]
            if labels:
                message = _("Question %(number)s is incomplete or invalid: %(fields)s.")
            else:
                message = _("Question %(number)s is incomplete or invalid.")
            errors.append(message % {"number": number, "fields": ", ".join(labels)})
    return errors


def question_errors(
    stream: Iterable, competence_levels: dict[str, set[str]], *, unknown: str | None = None
) -> list[str]:
    """Messages for questions whose competence or level code `competence_levels` lacks.

    `competence_levels` maps each allowed competence code to its framework's level codes;
    `unknown` says what a competence outside them is (a module's: not targeted).
    A question without a code yet is `incomplete_questions`' business.
    """
    errors = []
    for number, child in enumerate(stream, start=1):
        code, level = child.value["competence"], child.value["level"]
        if not code or not level:
            continue
        if code not in competence_levels:
            errors.append(
                (
                    unknown
                    or _(
                        "Question %(number)s: the module does not target the competence "
                        "« %(code)s »."
                    )
                )
                % {"number": number, "code": code}
            )
        elif level not in competence_levels[code]:
            errors.append(
                _(
                    "Question %(number)s: « %(level)s » is not a level of the "
                    "competence's framework."
                )
                % {"number": number, "level": level}
            )
    return errors


def file_question_error(stream: Iterable) -> str | None:
    """Why a quiz holds too many open questions accepting a file to ever be sent.

    Every file field is a part of the form even when left empty, and the server
    refuses a form of more than DATA_UPLOAD_MAX_NUMBER_FILES parts.
    """
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    count = sum(
        1 for child in stream if child.block_type == "open" and child.value.get("allow_file")
    )
    if limit is None or count <= limit:
        return None
    return _(
        "%(count)s open questions accept a file, at most %(limit)s can: untick « The learner may "
        "attach a file » on some of them."
    ) % {"count": count, "limit": limit}


def stream_data(questions: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """StreamField data for questions in the JSON form of data/demo/ (and tests)."""
    data = []
    for question in questions:
        kind = question["type"]
        value: dict[str, Any] = {
            "competence": question["competence"],
            "level": question["level"],
            "text": question["text"],
            "explanation": question.get("explanation", ""),
        }
        if kind in CHOICE_TYPES:
            value["options"] = [
                {
                    "text": option["text"],
                    "correct": bool(option.get("correct")),
                    "feedback": option.get("feedback", ""),
                }
                for option in question["options"]
            ]
        if kind == "multiple_choice":
            value["scoring"] = question.get("scoring", "all_or_nothing")
        elif kind == "short_answer":
            value["accepted_answers"] = list(question["accepted_answers"])
        elif kind == "numeric":
            value["answer"] = question["answer"]
            value["tolerance"] = question.get("tolerance", 0)
        elif kind == "ordering":
            value["items"] = list(question["items"])
        elif kind == "open":
            value["allow_file"] = question.get("allow_file", True)
        data.append((kind, value))
    return data
