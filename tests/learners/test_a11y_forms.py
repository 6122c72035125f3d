"""Forms about the person fill in from what the browser knows (WCAG 1.3.5), and the
agent sign-up says which fields become required, and when, before it is sent."""

from django.urls import reverse

from tests.html_checks import missing_references, soup_of

AGENT_SIGNUP_URL = "/agents/inscription/"


def test_the_profile_tells_the_browser_it_asks_for_a_name_and_a_job_title(client, camille):
    client.force_login(camille)
    soup = soup_of(client.get(reverse("learners:profile")))
    assert soup.find(id="id_full_name")["autocomplete"] == "name"
    job_title = soup.find(id="id_job_title")
    assert job_title["autocomplete"] == "organization-title"
    assert job_title["maxlength"] == "150"  # the model's limit survives the custom widget


def test_the_agent_sign_up_tells_the_browser_what_each_personal_field_is(client, db):
    soup = soup_of(client.get(AGENT_SIGNUP_URL))
    purposes = {
        field: soup.find(id=f"id_{field}").get("autocomplete")
        for field in ("full_name", "email", "new_organisation_name", "job_title")
    }
    assert purposes == {
        "full_name": "name",
        "email": "email",
        "new_organisation_name": "organization",
        "job_title": "organization-title",
    }


def test_the_organisation_list_is_described_by_when_it_may_be_left_blank(client, db):
    soup = soup_of(client.get(AGENT_SIGNUP_URL))
    assert missing_references(soup) == []
    organisation = soup.find(id="id_organisation")
    # Required under a condition: said in words, not by `required`, which would refuse
    # the form of someone naming a new organisation below.
    assert not organisation.has_attr("required")
    help_id = organisation["aria-describedby"].split()[0]
    assert soup.find(id=help_id).get_text(strip=True)


def test_the_new_organisation_fields_are_grouped_under_a_legend_naming_them(client, db):
    soup = soup_of(client.get(AGENT_SIGNUP_URL))
    group = soup.find(attrs={"data-testid": "new-organisation"})
    assert group.name == "fieldset" and group.legend.get_text(strip=True)
    inside = {element["id"] for element in group.find_all(["input", "select"])}
    assert inside == {
        "id_new_organisation_name",
        "id_new_organisation_kind",
        "id_new_organisation_departement",
    }


def test_the_agent_sign_up_legend_and_help_say_which_fields_become_required(client, db, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    soup = soup_of(client.get(AGENT_SIGNUP_URL))
    legend = soup.find(attrs={"data-testid": "new-organisation"}).legend.get_text(strip=True)
    assert "type" in legend and "département" in legend and "required" in legend
    help_id = soup.find(id="id_organisation")["aria-describedby"].split()[0]
    assert "Required, unless" in soup.find(id=help_id).get_text()
