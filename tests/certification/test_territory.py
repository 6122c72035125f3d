"""The territory dashboard counts people and attestations by région, département and month."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from certification import territory
from certification.models import Award, Certificate
from learners.models import Enrolment, Organisation, User
from tests.conftest import make_user

URL = "/territoires/"


def certify(learner, award, *, days_ago=0, **extra) -> Certificate:
    return Certificate.objects.create(
        learner=learner,
        award=award,
        context={"holder": {"name": learner.full_name}},
        issued_at=timezone.now() - datetime.timedelta(days=days_ago),
        **extra,
    )


@pytest.fixture
def territory_data(setting, camille, dominique, sophie, helene, marc):
    bastia = Organisation.objects.create(
        name="Tiers-lieu de Bastia", kind=Organisation.Kind.TIERS_LIEU, departement="2B"
    )
    dominique.organisation = bastia
    dominique.save()
    second_block = Award.objects.create(
        kind=Award.Kind.BLOCK,
        title="Bloc B2",
        criteria="B2",
        block=setting.framework.blocks.get(code="B2"),
    )
    # Camille, without organisation: full certification and two blocks.
    certify(camille, setting.certification_award)
    certify(camille, setting.block_award, days_ago=400)  # older than the 12 months shown
    certify(camille, second_block)
    # Dominique, in Haute-Corse: one valid block, one revoked.
    certify(dominique, setting.block_award)
    certify(dominique, second_block, status=Certificate.Status.REVOKED)
    # Sophie aware; Hélène's attestation expired; Marc aware two months ago.
    certify(sophie, setting.awareness_award)
    certify(
        helene,
        setting.awareness_award,
        expires_at=timezone.now() - datetime.timedelta(days=1),
    )
    certify(marc, setting.awareness_award, days_ago=62)
    # Organisations involved: Sophie's (Creuse) and Dominique's (Haute-Corse).
    Enrolment.objects.create(learner=sophie, track=setting.track)
    Enrolment.objects.create(learner=dominique, track=setting.track)
    return setting


def figures(area) -> tuple[int, int, int, int, int]:
    f = area.figures
    return (f.certified, f.partially_certified, f.blocks, f.aware, f.organisations)


def test_the_figures_follow_each_persons_organisation_and_count_only_valid_attestations(
    territory_data,
):
    report = territory.territory_report()
    regions = {area.code: area for area in report.regions}
    assert list(regions) == ["75", "94", ""]  # INSEE order, « not specified » last
    assert figures(regions["75"]) == (0, 0, 0, 2, 1)  # Sophie and Marc aware; Sophie's EPCI
    departements = {d.code: d for d in regions["75"].departements}
    assert figures(departements["23"]) == (0, 0, 0, 1, 1)
    assert figures(departements["19"]) == (0, 0, 0, 1, 0)
    assert figures(regions["94"]) == (0, 1, 1, 0, 1)  # the revoked block does not count
    assert [d.code for d in regions["94"].departements] == ["2B"]
    assert figures(regions[""]) == (1, 0, 2, 0, 0)  # Camille: certified, not « partially »
    assert (report.total.certified, report.total.blocks, report.total.aware) == (1, 3, 2)


def test_the_months_show_the_last_twelve_with_what_was_issued_in_each(territory_data):
    report = territory.territory_report()
    assert len(report.months) == 12
    this_month, two_months_ago = report.months[-1], report.months[-3]
    assert this_month.start == timezone.localdate().replace(day=1)
    assert (this_month.certified, this_month.blocks, this_month.aware) == (1, 2, 1)
    assert this_month.organisations == 2
    assert two_months_ago.aware == 1
    assert sum(month.blocks for month in report.months) == 2  # the 400-day-old one is out


def test_month_starts_cross_the_new_year():
    starts = territory.month_starts(datetime.date(2026, 2, 15), count=3)
    assert starts == [
        datetime.date(2025, 12, 1),
        datetime.date(2026, 1, 1),
        datetime.date(2026, 2, 1),
    ]


def test_staff_see_the_dashboard_with_charts_and_tables(client, staff, territory_data):
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="territory-chart"') == 6
    assert 'data-region="75"' in page and 'data-departement="2B"' in page
    assert 'data-testid="months-table"' in page


def test_everyone_but_staff_gets_a_404(client, helene, camille):
    assert client.get(URL).status_code == 404
    for person in (helene, camille):
        client.force_login(person)
        assert client.get(URL).status_code == 404
        assert client.get("/territoires/territoires.csv").status_code == 404
        assert client.get("/territoires/mois.csv").status_code == 404


def test_a_team_member_not_allowed_to_see_certificates_gets_a_404_and_no_link(client, db):
    from django.contrib.auth.models import Permission

    attendance_only = make_user("accueil@example.org", "Accueil Campus", is_staff=True)
    client.force_login(attendance_only)
    assert client.get(URL).status_code == 404
    assert client.get("/territoires/mois.csv").status_code == 404
    assert URL not in client.get("/moi/profil/").content.decode()

    attendance_only.user_permissions.add(
        Permission.objects.get(content_type__app_label="certification", codename="view_certificate")
    )
    allowed = User.objects.get(pk=attendance_only.pk)  # permissions are cached per object
    client.force_login(allowed)
    assert client.get(URL).status_code == 200
    assert URL in client.get("/moi/profil/").content.decode()


def csv_rows(client, path: str) -> list[dict[str, str]]:
    text = client.get(path).content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_the_csv_exports_carry_the_same_figures_under_french_headings(
    client, staff, territory_data
):
    client.force_login(staff)
    rows = {
        row["Code département"] or "none": row
        for row in csv_rows(client, "/territoires/territoires.csv")
    }
    assert rows["23"]["Région"] == "Nouvelle-Aquitaine"
    assert rows["23"]["Code région"] == "75"
    # Below five, a département's count leaves the team as « < 5 »: so few can be named.
    assert rows["23"]["Agents sensibilisés"] == "< 5"
    assert rows["23"]["Tout le référentiel validé"] == "0"
    assert rows["2B"]["Blocs atteints en partie"] == "< 5"
    assert rows["none"]["Tout le référentiel validé"] == "< 5"
    months = csv_rows(client, "/territoires/mois.csv")
    assert len(months) == 12
    assert months[-1]["Attestations de bloc"] == "2"
    this_month = timezone.localdate().replace(day=1)
    assert months[-1]["Mois"] == this_month.strftime("%d/%m/%Y")


def test_the_csv_exports_follow_an_english_interface(client, staff, territory_data, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(staff)
    departements = csv_rows(client, "/territoires/territoires.csv")
    assert list(departements[0]) == [
        "Région code",
        "Région",
        "Département code",
        "Département",
        "Every competence validated",
        "Some blocks reached",
        "Block attestations",
        "Agents made aware",
        "Organisations involved",
    ]
    months = csv_rows(client, "/territoires/mois.csv")
    assert months[-1]["Month"] == timezone.localdate().replace(day=1).strftime("%m/%d/%Y")
    assert months[-1]["Block attestations"] == "2"


@pytest.mark.parametrize("people", [5, 300])
def test_the_dashboard_costs_the_same_queries_whatever_the_data(
    client, staff, setting, people, django_assert_max_num_queries
):
    codes = ["23", "2A", "971", "75", "29"]
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Org {i}", departement=codes[i % 5], region="") for i in range(people)
    )
    learners = User.objects.bulk_create(
        User(email=f"p{i}@example.org", full_name=f"P {i}", organisation=organisations[i])
        for i in range(people)
    )
    Certificate.objects.bulk_create(
        Certificate(learner=learner, award=award, context={})
        for learner in learners
        for award in (setting.awareness_award, setting.block_award)
    )
    Enrolment.objects.bulk_create(Enrolment(learner=p, track=setting.track) for p in learners)
    client.force_login(staff)
    with django_assert_max_num_queries(15):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.context["report"].total.aware == people
    assert response.context["report"].total.organisations == people


def test_a_person_without_organisation_counts_under_not_specified(db, setting):
    loner = make_user("loner@example.org", "Sans Organisation")
    certify(loner, setting.awareness_award)
    report = territory.territory_report()
    assert [area.code for area in report.regions] == [""]
    assert report.regions[0].figures.aware == 1


def test_from_five_up_a_departements_count_is_exported_as_it_is():
    from certification.territory_views import _masked

    assert [_masked(n) for n in (0, 1, 4, 5, 120)] == [0, "< 5", "< 5", 5, 120]
