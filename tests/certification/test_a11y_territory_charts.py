"""Each territory chart shows its title on the page, and the image is named by it."""

from bs4 import BeautifulSoup

from certification.territory_charts import bar_chart, column_chart

URL = "/territoires/"


def test_a_chart_is_a_figure_whose_visible_caption_names_the_image():
    for chart in (bar_chart, column_chart):
        html = chart([("Corse", 3), ("Bretagne", 1)], title="Agents sensibilisés", key="k")
        figure = BeautifulSoup(html, "html.parser").figure
        caption = figure.figcaption
        assert caption.get_text() == "Agents sensibilisés"
        assert figure["aria-labelledby"] == caption["id"]
        svg = figure.find("svg")
        assert svg["role"] == "img" and svg["aria-labelledby"] == caption["id"]
        # The figures stay with the image, as its description.
        assert figure.find(id=svg["aria-describedby"]).get_text() == "Corse: 3; Bretagne: 1."


def test_every_chart_of_the_dashboard_has_a_caption_on_the_page(client, staff):
    client.force_login(staff)
    soup = BeautifulSoup(client.get(URL).content, "html.parser")
    ids = {element["id"] for element in soup.find_all(id=True)}
    figures = soup.select("figure[data-testid=territory-figure]")
    assert len(figures) == 6
    for figure in figures:
        caption = figure.find("figcaption", recursive=False)
        assert caption.get_text(strip=True)
        svg = figure.select_one("svg[data-testid=territory-chart]")
        assert svg["aria-labelledby"] == caption["id"] == figure["aria-labelledby"]
        assert svg["aria-describedby"] in ids
    captions = [figure.figcaption["id"] for figure in figures]
    assert len(set(captions)) == len(captions)  # one id per chart: each names its own image
