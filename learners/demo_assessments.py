"""Demo assessments: the demo facilitator passes her first quiz through the real services,
and an open answer waits in the demo trainer's grading queue. Idempotent."""

from courses.models import ModulePage
from learners import assessments
from learners.models import Attempt, Submission, User
from learners.tasks import record_attempt_outcome

OPEN_ANSWER = (
    "J'anime aujourd'hui la programmation du lieu. Lors de la dernière assemblée, j'ai "
    "proposé une décision par consentement : le collectif a adopté le principe d'un "
    "comité de programmation ouvert. Je souhaite passer d'un rôle de porteuse à celui "
    "de facilitatrice dans les douze prochains mois."
)


def right_answers(attempt: Attempt) -> dict:
    answers = {}
    for q in attempt.questions:
        if q["type"] in ("single_choice", "true_false"):
            answers[q["id"]] = next(o["key"] for o in q["options"] if o["correct"])
        elif q["type"] == "multiple_choice":
            answers[q["id"]] = [o["key"] for o in q["options"] if o["correct"]]
        elif q["type"] == "short_answer":
            answers[q["id"]] = q["accepted_answers"][0]
        elif q["type"] == "numeric":
            answers[q["id"]] = str(q["answer"])
        elif q["type"] == "ordering":
            answers[q["id"]] = [i["key"] for i in sorted(q["items"], key=lambda i: int(i["key"]))]
        else:
            answers[q["id"]] = OPEN_ANSWER
    return answers


def pass_quiz(learner: User, module: ModulePage) -> int:
    if not module.has_quiz or Attempt.objects.filter(learner=learner, module=module).exists():
        return 0
    attempt = assessments.start_attempt(learner, module)
    assessments.submit_attempt(attempt, right_answers(attempt))
    # Evidence now, so the rest of the demo journey sees the module completed; the
    # task enqueued on commit then finds the outcome recorded and does nothing.
    record_attempt_outcome(attempt.pk)
    return 1


def seed_open_answer(learner: User, track_modules: list[ModulePage]) -> int:
    """The facilitator's answer to the first open question, awaiting the module owner's review."""
    for module in track_modules:
        question = next((c for c in module.quiz if c.block_type == "open"), None)
        if question is None:
            continue
        if Submission.objects.filter(learner=learner, module=module).exists():
            return 0
        competence = next(
            (
                t.competence
                for t in module.targets.all()
                if t.competence.code == question.value["competence"]
            ),
            None,
        )
        if competence is None:
            return 0
        Submission.objects.create(
            learner=learner,
            module=module,
            question_id=str(question.id),
            prompt=question.value["text"],
            competence=competence,
            text=OPEN_ANSWER,
        )
        return 1
    return 0
