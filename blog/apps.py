from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"

    def ready(self):
        from home.page_cache import page_viewed

        from .visitors import count_announced_view

        page_viewed.connect(count_announced_view, dispatch_uid="blog.count_view")
