"""Wagtail's read-only API v2 for the public pages (/api/v2/pages/): live, public
pages only, as Wagtail serves them."""

from wagtail.api.v2.pagination import WagtailPagination
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.utils import BadRequestError
from wagtail.api.v2.views import PagesAPIViewSet

# PostgreSQL's bigint, the widest integer an OFFSET takes.
MAX_OFFSET = 2**63 - 1
SEARCH_OPERATORS = ("and", "or")


class BoundedPagination(WagtailPagination):
    """Wagtail passes any offset to the database: ?offset=99999999999999999999
    was a 500 (PostgreSQL 'bigint out of range', SQLite OverflowError)."""

    def paginate_queryset(self, queryset, request, view=None):
        offset = request.GET.get("offset", "0")
        if offset.isdecimal() and int(offset) > MAX_OFFSET:
            # Past the end, as a smaller offset past the end answers.
            self.view, self.total_count = view, queryset.count()
            return []
        return super().paginate_queryset(queryset, request, view)


class PublicPagesAPIViewSet(PagesAPIViewSet):
    pagination_class = BoundedPagination

    def check_query_parameters(self, queryset):
        # The search backend raises ValueError for any other operator: a 500.
        operator = self.request.GET.get("search_operator")
        if operator is not None and operator not in SEARCH_OPERATORS:
            raise BadRequestError("search_operator must be 'and' or 'or'")
        super().check_query_parameters(queryset)


router = WagtailAPIRouter("wagtailapi")
router.register_endpoint("pages", PublicPagesAPIViewSet)
