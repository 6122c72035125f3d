from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from courses.models import CatalogPage, ModulePage


def catalogue_page(request: HttpRequest) -> HttpResponse:
    """The catalogue at a stable URL, whatever the page's slug in the tree."""
    page = CatalogPage.objects.live().first()
    if page is None:
        raise Http404
    return catalogue(request, page)


def catalogue(request: HttpRequest, page: CatalogPage) -> HttpResponse:
    modules = ModulePage.objects.live().public().descendant_of(page).with_cards().order_by("title")
    return TemplateResponse(
        request, "courses/catalog_page.html", {"page": page, "self": page, "modules": modules}
    )
