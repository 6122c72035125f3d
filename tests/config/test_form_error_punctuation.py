"""An error summary punctuates « field: error » as the reader's language does."""

from django import forms
from django.template.loader import render_to_string
from django.utils import translation

from tests.html_checks import error_summary, soup_of

AGENT_SIGNUP_URL = "/agents/inscription/"
NBSP = "\u00a0"


def summary_lines(client) -> list[str]:
    soup = soup_of(client.post(AGENT_SIGNUP_URL, {"full_name": "", "email": ""}))
    return [item.get_text() for item in error_summary(soup).find_all("li")]


def test_english_errors_put_the_colon_right_after_the_field(client, db, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    lines = summary_lines(client)
    assert "Full name: This field is required." in lines
    assert not [line for line in lines if " :" in line or NBSP in line]


def test_french_errors_keep_a_non_breaking_space_before_the_colon(client, db):
    lines = summary_lines(client)
    assert f"Prénom et nom{NBSP}: Ce champ est obligatoire." in lines
    assert not [line for line in lines if " : " in line]  # never a space that may wrap


def test_a_label_and_an_error_in_the_summary_are_still_escaped():
    class Form(forms.Form):
        name = forms.CharField(label="<b>Nom</b> & prénom")

        def clean_name(self):
            raise forms.ValidationError("<i>refusé</i>")

    with translation.override("en"):
        html = render_to_string("includes/form_errors.html", {"form": Form({"name": "x"})})
    assert "&lt;b&gt;Nom&lt;/b&gt; &amp; prénom: &lt;i&gt;refusé&lt;/i&gt;" in html
    assert "<b>" not in html and "<i>" not in html
