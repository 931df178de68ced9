"""/api/v1/: the resources, the OpenAPI schema and its reference page."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("clients", views.ClientViewSet, basename="client")
router.register("client-fields", views.ClientFieldViewSet, basename="clientfield")
router.register("lists", views.MailingListViewSet, basename="list")
router.register("segments", views.SegmentViewSet, basename="segment")
router.register("suppressions", views.SuppressionViewSet, basename="suppression")
router.register("messages", views.MessageViewSet, basename="message")
router.register("layouts", views.LayoutViewSet, basename="layout")
router.register("senders", views.SenderIdentityViewSet, basename="sender")
router.register("mailings", views.MailingViewSet, basename="mailing")
router.register("runs", views.RunViewSet, basename="run")
router.register("attempts", views.AttemptViewSet, basename="attempt")
router.register("events", views.EventViewSet, basename="event")
router.register("users", views.UserViewSet, basename="user")

app_name = "api"
urlpatterns = [
    # Public documentation: no authentication, so no session and nothing to forge.
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=[]),
        name="schema",
    ),
    # Swagger UI from drf-spectacular-sidecar's files, served by us (no CDN); its
    # script at its own address (?script), so the site's CSP needs no exception.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema",
            template_name="mailing/api/reference.html",
            authentication_classes=[],
        ),
        name="docs",
    ),
    *router.urls,
]
