"""Scoring of every question type: pure functions over frozen questions."""

import random

from hypothesis import given
from hypothesis import strategies as st

from learners.scoring import normalise, number_readings, parse_number, percent, score


def choice(kind: str, correct: list[bool], scoring: str = "all_or_nothing") -> dict:
    return {
        "type": kind,
        "scoring": scoring,
        "options": [
            {"key": f"k{index}", "text": f"Option {index}", "correct": flag, "feedback": ""}
            for index, flag in enumerate(correct)
        ],
    }


def test_a_single_choice_scores_one_for_the_correct_key_only():
    question = choice("single_choice", [False, True, False])
    assert score(question, "k1") == 1.0
    assert score(question, "k0") == 0.0
    assert score(question, None) == 0.0
    assert score(question, ["k1", "k0"]) == 0.0


def test_true_false_is_scored_as_a_single_choice():
    question = choice("true_false", [True, False])
    assert (score(question, "k0"), score(question, "k1")) == (1.0, 0.0)


def test_multiple_choice_all_or_nothing_needs_the_exact_set():
    question = choice("multiple_choice", [True, True, False])
    assert score(question, ["k1", "k0"]) == 1.0
    assert score(question, ["k0"]) == 0.0
    assert score(question, ["k0", "k1", "k2"]) == 0.0


def test_multiple_choice_partial_credit_lets_wrong_picks_cancel_right_ones():
    question = choice("multiple_choice", [True, True, False, False], scoring="partial")
    assert score(question, ["k0", "k1"]) == 1.0
    assert score(question, ["k0"]) == 0.5
    assert score(question, ["k0", "k2"]) == 0.0
    assert score(question, ["k0", "k1", "k2", "k3"]) == 0.0
    assert score(question, ["k0", "k0"]) == 0.0  # a repeated key is not an answer


def test_short_answers_ignore_case_accents_and_spacing():
    question = {
        "type": "short_answer",
        "accepted_answers": ["Fab lab", "laboratoire de fabrication"],
    }
    assert score(question, "  FAB   LAB ") == 1.0
    assert score(question, "Laboratoire de fabricatión") == 1.0
    assert score(question, "fablab") == 0.0
    assert score(question, "") == 0.0
    assert normalise("Élan\u00a0 Ça") == "elan ca"


def test_a_typographic_apostrophe_or_dash_matches_the_plain_one():
    question = {"type": "short_answer", "accepted_answers": ["l'association", "tiers-lieu"]}
    for typed in ("l’association", "L‘Association", "lʼassociation", "l´association"):
        assert score(question, typed) == 1.0, typed
    for typed in ("tiers‑lieu", "tiers–lieu", "tiers—lieu"):
        assert score(question, typed) == 1.0, typed
    assert score(question, "lassociation") == 0.0


def test_numeric_answers_count_within_the_tolerance_and_read_french_numbers():
    question = {"type": "numeric", "answer": 1800.0, "tolerance": 100.0}
    assert score(question, "1 750") == 1.0
    assert score(question, "1900") == 1.0
    assert score(question, "1900,5") == 0.0
    assert score(question, "beaucoup") == 0.0
    assert score({"type": "numeric", "answer": 0.3, "tolerance": 0.0}, 0.1 + 0.2) == 1.0
    assert parse_number("nan") is None


def test_a_number_grouped_with_a_dot_or_a_comma_counts_under_either_reading():
    thousands = {"type": "numeric", "answer": 1800.0, "tolerance": 0.0}
    decimals = {"type": "numeric", "answer": 1.8, "tolerance": 0.0}
    for typed in ("1.800", "1,800", "1 800", "1800"):
        assert score(thousands, typed) == 1.0, typed
    for typed in ("1.800", "1,800", "1,8", "1.8"):
        assert score(decimals, typed) == 1.0, typed
    assert score(thousands, "1.800,5") == 0.0
    assert number_readings("1.800,5") == [1800.5]
    assert number_readings("1,800.5") == [1800.5]
    assert number_readings("1.800.000") == [1800000.0]
    assert number_readings("0.125") == [0.125]  # a leading zero never groups
    assert number_readings("1.2.3") == []


def test_ordering_scores_one_only_for_the_exact_order():
    question = {
        "type": "ordering",
        "items": [{"key": "2", "text": "c"}, {"key": "0", "text": "a"}, {"key": "1", "text": "b"}],
    }
    assert score(question, ["0", "1", "2"]) == 1.0
    assert score(question, ["1", "0", "2"]) == 0.0
    assert score(question, ["0", "1"]) == 0.0


def test_open_answers_are_left_to_a_trainer():
    assert score({"type": "open"}, "Mon positionnement…") is None


def test_the_percentage_is_the_mean_of_scored_answers():
    assert percent([1.0, 0.0, 0.5, 1.0]) == 62
    assert percent([]) == 100


def test_the_percentage_is_rounded_down_so_a_shown_score_never_passes_more_than_it_earned():
    seven_of_eight = [1.0] * 7 + [0.0]  # 87.5 %
    assert percent(seven_of_eight) == 87
    assert percent([1.0, 1.0, 0.0]) == 66
    assert percent([0.7] * 10) == 70  # not 69 from the float sum


# --- Properties ------------------------------------------------------------------

flags = st.lists(st.booleans(), min_size=2, max_size=6).filter(any)
kinds = st.sampled_from(["single_choice", "multiple_choice"])
modes = st.sampled_from(["all_or_nothing", "partial"])


@st.composite
def question_and_answer(draw):
    kind = draw(kinds)
    correct = draw(flags)
    if kind == "single_choice":
        right = draw(st.integers(0, len(correct) - 1))
        correct = [index == right for index in range(len(correct))]
    question = choice(kind, correct, draw(modes))
    keys = [option["key"] for option in question["options"]]
    answer = draw(st.lists(st.sampled_from([*keys, "forged"]), max_size=len(keys) + 1))
    if kind == "single_choice":
        answer = answer[0] if answer else None
    return question, answer


@given(question_and_answer())
def test_a_score_is_always_between_0_and_100_percent(case):
    question, answer = case
    assert 0.0 <= score(question, answer) <= 1.0
    assert 0 <= percent([score(question, answer)]) <= 100


@given(question_and_answer(), st.randoms(use_true_random=False))
def test_shuffling_the_options_never_changes_the_score(case, rng: random.Random):
    question, answer = case
    shuffled = {**question, "options": list(question["options"])}
    rng.shuffle(shuffled["options"])
    assert score(shuffled, answer) == score(question, answer)


@given(question_and_answer())
def test_full_marks_only_for_the_exact_set_of_correct_answers(case):
    question, answer = case
    correct = {o["key"] for o in question["options"] if o["correct"]}
    picked = [answer] if isinstance(answer, str) else list(answer or [])
    exact = sorted(picked) == sorted(correct) and len(set(picked)) == len(picked)
    assert (score(question, answer) == 1.0) == exact


@given(
    st.lists(st.text(min_size=1, max_size=8), min_size=2, max_size=6, unique=True),
    st.randoms(use_true_random=False),
)
def test_an_ordering_earns_full_marks_only_in_the_authored_order(texts, rng):
    items = [{"key": str(position), "text": text} for position, text in enumerate(texts)]
    shown = list(items)
    rng.shuffle(shown)
    question = {"type": "ordering", "items": shown}
    attempt = [item["key"] for item in shown]
    expected = [str(position) for position in range(len(texts))]
    assert score(question, attempt) == (1.0 if attempt == expected else 0.0)
    assert score(question, expected) == 1.0


@given(st.text(alphabet="abcdeéèàçô ABCDÉ-'", max_size=30))
def test_a_short_answer_matches_itself_whatever_its_case_accents_and_spacing(text):
    question = {"type": "short_answer", "accepted_answers": [text]}
    expected = 1.0 if text.strip() else 0.0
    assert score(question, text) == expected
    assert score(question, f"  {text.upper()}  ".replace(" ", "  ")) == expected
