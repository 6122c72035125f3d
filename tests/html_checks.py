"""Checks on rendered HTML that a screen reader relies on, shared by the form tests."""

from bs4 import BeautifulSoup


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def missing_references(soup: BeautifulSoup) -> list[str]:
    """Every id named by an aria-describedby, a label's for or an error summary's link
    that no element of the page carries: a reference a screen reader cannot follow."""
    ids = {element["id"] for element in soup.find_all(id=True)}
    missing = []
    for element in soup.find_all(attrs={"aria-describedby": True}):
        missing += [
            f"{element.name}#{element.get('id')} aria-describedby {ref}"
            for ref in element["aria-describedby"].split()
            if ref not in ids
        ]
    for label in soup.find_all("label", attrs={"for": True}):
        if label["for"] not in ids:
            missing.append(f"label for {label['for']}")
    for link in soup.select("[data-error-summary] a[href^='#']"):
        if link["href"][1:] not in ids:
            missing.append(f"summary link {link['href']}")
    return missing


def error_summary(soup: BeautifulSoup):
    """The page's error summary: the element the script focuses after a failed submit."""
    summaries = soup.select("[data-error-summary]")
    assert len(summaries) == 1, f"{len(summaries)} error summaries"
    return summaries[0]
