"""Wagtail's read-only API v2 for the public pages (/api/v2/pages/): live, public
pages only, as Wagtail serves them."""

from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.views import PagesAPIViewSet

router = WagtailAPIRouter("wagtailapi")
router.register_endpoint("pages", PagesAPIViewSet)
