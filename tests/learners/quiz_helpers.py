"""Quizzes for learner tests, written in the JSON form of data/demo/."""

from courses.assessments import stream_data
from courses.models import ModulePage
from learners.assessments import item_field


def single(competence="B1.1", level="appliquer", text="Quel lieu ?", right=1, options=3):
    return {
        "type": "single_choice",
        "competence": competence,
        "level": level,
        "text": text,
        "options": [
            {"text": f"Option {n}", "correct": n == right, "feedback": f"RETOUR-{text}-{n}"}
            for n in range(options)
        ],
        "explanation": f"EXPLICATION-{text}",
    }


def every_type(competence="B1.1"):
    return [
        single(competence, text="Choix simple"),
        {
            "type": "multiple_choice",
            "competence": competence,
            "level": "decouvrir",
            "text": "Choix multiple",
            "scoring": "partial",
            "options": [
                {"text": "A", "correct": True, "feedback": "RETOUR-A"},
                {"text": "B", "correct": True, "feedback": "RETOUR-B"},
                {"text": "C", "correct": False, "feedback": "RETOUR-C"},
            ],
        },
        {
            "type": "true_false",
            "competence": competence,
            "level": "decouvrir",
            "text": "Vrai ou faux",
            "options": [{"text": "Vrai", "correct": True}, {"text": "Faux", "correct": False}],
        },
        {
            "type": "short_answer",
            "competence": competence,
            "level": "decouvrir",
            "text": "Réponse courte",
            "accepted_answers": ["Fab lab"],
        },
        {
            "type": "numeric",
            "competence": competence,
            "level": "decouvrir",
            "text": "Nombre",
            "answer": 1800,
            "tolerance": 100,
        },
        {
            "type": "ordering",
            "competence": competence,
            "level": "decouvrir",
            "text": "Ordre",
            "items": ["Premier", "Deuxième", "Troisième"],
        },
    ]


def set_quiz(module: ModulePage, questions: list[dict], **settings) -> ModulePage:
    module.quiz = stream_data(questions)
    for name, value in settings.items():
        setattr(module, f"quiz_{name}", value)
    module.save()
    return ModulePage.objects.get(pk=module.pk)


def right_answers(attempt) -> dict:
    """The answer that earns full marks to every question of a frozen attempt."""
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
            answers[q["id"]] = "Ma réponse argumentée."
    return answers


def right_form(attempt) -> dict:
    """The POST data of a form answering everything right."""
    data = {}
    for q in attempt.questions:
        answer = right_answers(attempt)[q["id"]]
        if q["type"] == "ordering":
            items = {item["key"]: item for item in q["items"]}
            for position, key in enumerate(answer, start=1):
                data[item_field(f"q-{q['id']}", items[key])] = str(position)
        else:
            data[f"q-{q['id']}"] = answer
    return data
