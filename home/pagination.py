"""One page of a list, or 404: a cached page must not answer junk page numbers.

Paginator.get_page() answers ?page=xyz and ?page=99999 with a real page, so each
junk value would be a render and a cache entry of its own (issue 11, finding 6).
"""

import re

from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404, HttpRequest

# Only the canonical spelling of a number: ?page=01 and ?page=+1 are not page 1.
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


def page_or_404(paginator: Paginator, request: HttpRequest) -> Page:
    number = request.GET.get("page", "1")
    if not PAGE_NUMBER.fullmatch(number):
        raise Http404("no such page")
    try:
        return paginator.page(number)
    except InvalidPage as error:
        raise Http404("no such page") from error
