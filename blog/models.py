from functools import cache
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.images import get_image_model
from wagtail.models import Page, PageManager, PageQuerySet
from wagtail.search import index

from home import page_rows, translations
from home.page_cache import CachedPageMixin, any_view_restrictions
from home.pagination import PAGE_NUMBER, page_or_404
from home.seo import SeoMixin

from .blocks import PostBodyBlock

# Rendition specs of the templates, prefetched with the posts (see `cards`).
CARD_IMAGE_SPEC = "fill-{400x225,800x450}|format-{avif,webp,jpeg}"
MAIN_IMAGE_SPEC = "fill-{800x450,1600x900}|format-{avif,webp,jpeg}"
OG_IMAGE_SPEC = "fill-1200x630|format-jpeg"


def expand_spec(spec: str) -> list[str]:
    from wagtail.images.models import Filter

    return Filter.expand_spec(spec)


class BlogPageQuerySet(PageQuerySet):
    def published(self):
        """What the public may see: live, not behind a view restriction."""
        # public() reads every restriction first: a query saved when there are none.
        return self.live().public() if any_view_restrictions() else self.live()

    def cards(self):
        """Posts with everything a card shows, in a fixed number of queries."""
        images = get_image_model().objects.prefetch_renditions(
            *expand_spec(CARD_IMAGE_SPEC)
        )
        # Not select_related: a joined image would skip the renditions prefetch.
        return self.prefetch_related(
            "tags", models.Prefetch("main_image", queryset=images)
        )

    def newest_first(self):
        return self.order_by("-date", "-pk")

    def random_cards(self, count: int):
        return list(self.published().cards().order_by("?")[:count])


class BlogIndexPage(SeoMixin, CachedPageMixin, Page):
    """The list of posts, newest first, paginated, filtered by tag."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]

    page_size = 12
    page_cache_query_parameters = ("page", "tag")
    page_cache_lists_pages = True

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        posts = BlogPage.objects.child_of(self).published().cards().newest_first()
        tag = request.GET.get("tag", "")
        if tag:
            posts = posts.filter(tags__slug=tag)
        paginator = Paginator(posts, self.page_size)
        if tag and not paginator.count:
            raise Http404("no post has this tag")  # each unknown tag would be cached
        context["posts"] = page_or_404(paginator, request)
        context["tag"] = tag
        # Its name, not its slug ("email-tips"), in the heading and the title.
        context["tag_name"] = tag and (
            BlogPageTag.tag_model()
            .objects.filter(slug=tag)
            .values_list("name", flat=True)
            .first()
            or tag
        )
        return context

    def query_in(self, request, code: str) -> str | None:
        """This list's place (tag, page number) in its translation in `code`, for
        the language switcher: "" for the first page of all posts, None where that
        list has no such place (no post with the tag there, or fewer pages)."""
        tag = request.GET.get("tag", "")
        number = request.GET.get("page", "1")
        if not tag and number == "1":
            return ""
        translation = translations.live_translations(self.translation_key).get(code)
        if translation is None:
            return None
        posts = BlogPage.objects.child_of(translation).published()
        found = posts.filter(tags__slug=tag).count() if tag else posts.count()
        if tag and not found:
            return None
        kept = {"tag": tag} if tag else {}
        if number != "1":
            if not PAGE_NUMBER.fullmatch(number):
                return None
            if found <= (int(number) - 1) * self.page_size:
                return None
            kept = {"page": number, **kept}
        return urlencode(kept)

    parent_page_types = ["home.HomePage"]
    subpage_types = ["blog.BlogPage"]

    class Meta:
        verbose_name = _("blog index")
        verbose_name_plural = _("blog indexes")


class BlogPageTag(TaggedItemBase):
    content_object = ParentalKey(
        "blog.BlogPage", related_name="tagged_items", on_delete=models.CASCADE
    )

    class Meta:
        verbose_name = _("blog post tag")
        verbose_name_plural = _("blog post tags")


class BlogPage(SeoMixin, CachedPageMixin, Page):
    """A post. `view_count` is read by operators: keep the name."""

    date = models.DateField(_("publication date"), default=timezone.localdate)
    author = models.CharField(_("author"), max_length=120)
    intro = models.CharField(_("introduction"), max_length=300)
    body = StreamField(PostBodyBlock(), blank=True, verbose_name=_("body"))
    main_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("main image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tags = ClusterTaggableManager(
        through=BlogPageTag, blank=True, verbose_name=_("tags")
    )
    # Written only by blog.services.flush_view_counts, with F().
    view_count = models.PositiveBigIntegerField(
        _("view count"), default=0, editable=False
    )

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [FieldPanel("date"), FieldPanel("author"), FieldPanel("tags")],
            heading=_("Post information"),
        ),
        FieldPanel("intro"),
        FieldPanel("main_image"),
        FieldPanel("body"),
    ]

    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("body"),
        index.FilterField("date"),
    ]

    objects = PageManager.from_queryset(BlogPageQuerySet)()
    counts_views = True
    # Read with the post when it is first routed (home.routing): its image in the
    # same query, as the post is rendered with it.
    route_select_related = ("main_image",)

    @cached_property
    def display_image(self):
        """The main image with all seven renditions the page shows: one query for
        the renditions (the image came with the routed post; else one more).

        Profiled: a rendition cache round trip per picture tag was a third of an
        uncached render. Read only when the meta tags or the article are rendered,
        not when they come from the fragment cache.
        """
        image = self.main_image
        if image is None:
            return None
        specs = [*expand_spec(MAIN_IMAGE_SPEC), OG_IMAGE_SPEC]
        renditions = image.get_rendition_model().objects.filter(filter_spec__in=specs)
        # What Wagtail's prefetch_renditions does for a queryset, for one image.
        models.prefetch_related_objects(
            [image], models.Prefetch("renditions", queryset=renditions)
        )
        return image

    def shown_tags(self, request):
        """The tags the article shows: an edited page's own (a preview holds them in
        memory), else those saved, in the order page.tags.all() gives.

        Read with one handwritten query, lazily (not when the article comes from
        the fragment cache): profiled on the first visitor after a publish,
        building taggit's join for page.tags.all() cost four times reading it
        (1.0 ms of CPU against 0.2 ms).
        """
        if getattr(request, "is_preview", False):
            return self.tags.all()
        tag_model = BlogPageTag.tag_model()
        columns = page_rows.select_list(tag_model, alias="tag")
        # Table names from the models' own metadata; the id is a parameter.
        sql = (
            f"SELECT {columns} FROM {tag_model._meta.db_table} tag"  # nosec B608
            f" JOIN {BlogPageTag._meta.db_table} item ON item.tag_id = tag.id"
            " WHERE item.content_object_id = %s ORDER BY item.id"
        )
        return SimpleLazyObject(lambda: page_rows.read(tag_model, sql, [self.pk]))

    def keep_from(self, previous: "BlogPage") -> None:
        """Called by home.routing when it reads this post again after a publish:
        the image it showed, with its renditions, stays unless the post now shows
        another (a publish leaves an image as it was; the kept route holding it
        lives no longer than the page's cached copies)."""
        kept = previous.__dict__.get("display_image")
        if kept is not None and kept.pk == self.main_image_id:
            self.display_image = kept

    def get_context(self, request, *args, parent=None, parent_url=None, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # The address of the index the post links back to: given by the routing
        # (home.routing), or found only if a fragment that shows it is rendered.
        context["tags"] = self.shown_tags(request)
        context["index_url"] = parent_url or cache(
            lambda: (parent or self.get_parent()).get_url(request)
        )
        return context

    parent_page_types = ["blog.BlogIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("blog post")
        verbose_name_plural = _("blog posts")
