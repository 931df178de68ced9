"""RSS and Atom feeds of the published posts, newest first, one per language.

The feeds sit under i18n_patterns: /feeds/blog.rss lists the Russian posts,
/en/feeds/blog.rss the English ones (each locale's own tree).
"""

from datetime import datetime, time

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.timezone import get_default_timezone, make_aware
from django.utils.translation import gettext_lazy as _
from wagtail.models import Locale

from .models import BlogIndexPage, BlogPage

FEED_SIZE = 20


def _absolute(path: str) -> str:
    return settings.BASE_URL + path


class LatestPostsFeed(Feed):
    title = _("Vestnik blog")
    description = _("New posts from the Vestnik blog")

    def get_object(self, request, *args, **kwargs):
        return Locale.get_active()

    def link(self, locale):
        index = BlogIndexPage.objects.live().filter(locale=locale).first()
        return _absolute((index and index.url) or "/")

    def items(self, locale):
        posts = BlogPage.objects.published().filter(locale=locale)
        return posts.newest_first()[:FEED_SIZE]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.intro

    def item_link(self, item):
        return _absolute(item.url)

    def item_author_name(self, item):
        return item.author

    def item_pubdate(self, item):
        # The post's date, which orders the items: readers sort and show by
        # pubDate (RSS) and published (Atom), and the first publication put a
        # backdated post above newer ones. Midnight in TIME_ZONE (Django makes
        # a naive date-time aware in it).
        return datetime.combine(item.date, time.min)

    def item_updateddate(self, item):
        # Atom's updated: the last publish, never before the published date.
        published = make_aware(self.item_pubdate(item), get_default_timezone())
        last = item.last_published_at
        return max(published, last) if last else published


class LatestPostsAtomFeed(LatestPostsFeed):
    feed_type = Atom1Feed
    subtitle = LatestPostsFeed.description
