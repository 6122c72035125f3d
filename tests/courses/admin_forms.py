"""The Wagtail page forms as a browser sends them, for tests that drive the admin."""

from django.utils.text import slugify
from wagtail.test.utils.form_data import nested_form_data, querydict_from_html, rich_text
from wagtail.test.utils.wagtail_tests import WagtailTestUtils

from courses.models import ModulePage, TrackPage

ADMIN = "/cms-admin"


def edit_url(page) -> str:
    return f"{ADMIN}/pages/{page.pk}/edit/"


def add_module_url(track: TrackPage) -> str:
    return f"{ADMIN}/pages/add/courses/modulepage/{track.pk}/"


def page_form(client, url: str, **fields) -> dict:
    """The admin form as the browser would send it: its own defaults, then `fields`."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    data = querydict_from_html(html, form_id="page-edit-form")
    # Wagtail's helper sends a select's first option when none is selected, as a
    # browser does for a single choice; for a multiple one (prerequisites) it sends nothing.
    for select in WagtailTestUtils.get_soup(html).select("#page-edit-form select[multiple]"):
        if not select.find("option", selected=True):
            data.pop(select["name"], None)
    # Empty question StreamFields (module quiz, track positioning) are drawn by
    # Wagtail's JavaScript, so the HTML holds no count for them; other forms ignore these.
    for stream in ("quiz", "positioning"):
        if f"{stream}-count" not in data:
            data[f"{stream}-count"] = "0"
    for name, value in fields.items():
        data[name] = value  # replaces; QueryDict.update() would append
    return data


def numeric_question(competence: str, level: str = "decouvrir", answer="1800") -> dict:
    return {
        "competence": competence,
        "level": level,
        "text": "Combien de tiers-lieux en France ?",
        "answer": answer,
        "tolerance": "100",
        "explanation": "",
    }


def open_question_form(competence: str, level: str = "decouvrir") -> dict:
    """An open question accepting a file, as the admin's form sends it."""
    return {
        "type": "open",
        "competence": competence,
        "level": level,
        "text": "Décrivez votre lieu.",
        "allow_file": "on",
        "explanation": "",
    }


def quiz_data(*questions: dict) -> dict:
    """The quiz StreamField's POST data: numeric questions unless a question says its
    `type` (one without list items: an open question).

    Wagtail's JavaScript draws the quiz, so a form read from the HTML never holds it:
    a test that saves a module with a quiz sends it whole, as the browser would.
    """
    data = {"quiz-count": str(len(questions))}
    for index, question in enumerate(questions):
        question = dict(question)
        data.update(
            {
                f"quiz-{index}-type": question.pop("type", "numeric"),
                f"quiz-{index}-deleted": "",
                f"quiz-{index}-order": str(index),
                f"quiz-{index}-id": "",
            }
        )
        data.update(nested_form_data({f"quiz-{index}-value": question}))
    return data


def targets_data(*targets, initial: int = 0) -> dict:
    """The targets formset: (competence, level, id or None, deleted) per row."""
    data = {"targets-TOTAL_FORMS": str(len(targets)), "targets-INITIAL_FORMS": str(initial)}
    for index, (competence, level, pk, deleted) in enumerate(targets):
        data.update(
            {
                f"targets-{index}-competence": str(competence.pk),
                f"targets-{index}-target_level": str(level.pk),
                f"targets-{index}-ORDER": str(index),
                f"targets-{index}-DELETE": "on" if deleted else "",
                f"targets-{index}-id": str(pk or ""),
            }
        )
    return data


def module_fields(title: str = "Ouvrir son lieu aux habitants", **extra) -> dict:
    return {
        "title": title,
        "slug": slugify(title),
        "summary": "Accueillir, écouter, faire participer.",
        "objectives": rich_text("<p>Organiser une réunion publique.</p>"),
        "duration_minutes": "45",
        **extra,
    }


def created_module(title: str = "Ouvrir son lieu aux habitants") -> ModulePage | None:
    return ModulePage.objects.filter(slug=slugify(title)).first()
