from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps import views as sitemaps
from wagtail.documents import urls as wagtaildocs_urls

from accounts.views import admin_login, admin_password_reset
from blog.feeds import LatestPostsAtomFeed, LatestPostsFeed
from home.api import router as pages_api
from home.seo import locale_sitemaps
from home.views import favicon, robots_txt, set_language
from mailing.admin_scoping import admin_urlpatterns
from mailing.webhooks import URL_PREFIX as WEBHOOKS
from mailing.webhooks import webhook_urlpatterns

from .health import healthz

# Addresses that never change with the language: machines and emails link to them.
urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    # Wagtail's own login and reset lead to the accounts pages: no second door.
    path("admin/login/", admin_login, name="admin_login_redirect"),
    path("admin/password_reset/", admin_password_reset),
    # Wagtail's admin, its page chooser scoped to the pages the viewer may see and
    # its choosers and editing-session ping ignoring ids that are no number.
    path("admin/", include(admin_urlpatterns(wagtailadmin_urls.urlpatterns))),
    path("documents/", include(wagtaildocs_urls)),
    # Django's language form, for codes written any way (home.views.set_language).
    path("i18n/setlang/", set_language, name="set_language"),
    # ESP webhooks, fail-closed: none without ANYMAIL_WEBHOOK_SECRET.
    path(WEBHOOKS, include((webhook_urlpatterns(), "anymail"))),
    # Links in sent emails and RFC 8058 one-click POSTs: never language-prefixed.
    path("", include("mailing.urls")),
    # The REST API (issue 15) and Wagtail's read-only API of public pages.
    path("api/v1/", include("mailing.api.urls")),
    path("api/v2/", pages_api.urls),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("favicon.ico", favicon, name="favicon"),
    # An index of one sitemap per language (home.seo.LocaleSitemap).
    path(
        "sitemap.xml",
        sitemaps.index,
        {"sitemaps": locale_sitemaps(), "sitemap_url_name": "sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        sitemaps.sitemap,
        {"sitemaps": locale_sitemaps()},
        name="sitemap_section",
    ),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# A 400 that says why when the refusal was written for the sender.
handler400 = "site_config.errors.bad_request"
# The API's clients read JSON even where no API view answered (mailing.api.errors).
handler404 = "site_config.errors.not_found"
handler500 = "site_config.errors.server_error"

# Russian at the bare path, English under /en/.
urlpatterns += i18n_patterns(
    path("accounts/", include("accounts.urls")),
    path("feeds/blog.rss", LatestPostsFeed(), name="blog_feed_rss"),
    path("feeds/blog.atom", LatestPostsAtomFeed(), name="blog_feed_atom"),
    # Wagtail's page serving catches everything else: keep it last.
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)
