from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"

    def ready(self):
        from home import page_cache

        from .visitors import CachedViewCounter, count_announced_view

        # Blog counts the views of its posts; the page cache only tells it of them.
        page_cache.page_viewed.connect(
            count_announced_view, dispatch_uid="blog.count_view"
        )
        page_cache.view_counter = CachedViewCounter
