"""A page of a list, with what `templates/courses/includes/pagination.html` needs."""

from django.core.paginator import Paginator
from django.http import HttpRequest


def page_context(request: HttpRequest, items, per_page: int) -> dict:
    """The requested page of `items` (the last one past the end, the first one for
    nonsense), its elided page numbers, and the query string minus its page."""
    paginator = Paginator(items, per_page)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page_obj": page,
        "page_range": list(paginator.get_elided_page_range(page.number)),
        "query": query,
    }
