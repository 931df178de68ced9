"""Every URL the project serves, as concrete addresses a test client can request.

The walk goes through Django's resolver tree (Wagtail admin viewsets and hooks
register into it), so a view added anywhere is found without editing a test. Path
parameters are filled from a `Fixture` (objects owned by mailing user A, pages,
images...). A pattern whose parameters cannot be filled is returned as skipped with
the reason, so the suites can count and print what they could not reach.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import translation
from django.utils.regex_helper import normalize


@dataclass(frozen=True)
class Route:
    """One leaf of the resolver tree."""

    name: str  # "namespace:name", or "-" for unnamed patterns
    route: str  # the pattern as written, for messages
    chain: tuple  # the pattern objects from the root to the leaf
    callback: Callable

    @property
    def view_model(self):
        """The model a Wagtail generic view works on, when the viewset says so."""
        initkwargs = getattr(self.callback, "view_initkwargs", None) or {}
        model = initkwargs.get("model")
        return model if isinstance(model, type) else None

    @property
    def namespace_model(self):
        """The model a namespace such as "mailing_client" names, if any."""
        from django.apps import apps

        namespace = self.name.rpartition(":")[0].split(":")[-1]
        app_label, _, model_name = namespace.partition("_")
        try:
            return apps.get_model(app_label, model_name)
        except (LookupError, ValueError):
            return None

    @property
    def view_class(self):
        return getattr(self.callback, "view_class", None)


@dataclass(frozen=True)
class Target:
    """A concrete address for a route, maybe with a query string."""

    route: Route
    path: str
    owned: bool = False  # the address names an object owned by mailing user A
    query: str = ""  # "?export=csv", "?id=1&id=2": requested as path + query
    foreign: bool = False  # the query names objects of another owner (or a draft)
    policy_name: str = ""  # the policy row, where it is not the route's name

    @property
    def url(self) -> str:
        return self.path + self.query

    @property
    def name(self) -> str:
        return self.policy_name or self.route.name


@dataclass
class Walk:
    targets: list[Target] = field(default_factory=list)
    skipped: list[tuple[Route, str]] = field(default_factory=list)

    def print_summary(self, title: str) -> None:
        print(f"\n{title}: {len(self.targets)} addresses, {len(self.skipped)} skipped")
        for route, reason in self.skipped:
            print(f"  skipped {route.name} ({route.route}): {reason}")


def iter_routes(patterns=None, chain=(), namespace=()) -> Iterator[Route]:
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + ((pattern.namespace,) if pattern.namespace else ())
            yield from iter_routes(
                pattern.url_patterns, chain + (pattern.pattern,), inner
            )
        elif isinstance(pattern, URLPattern):
            name = ":".join(namespace + (pattern.name,)) if pattern.name else "-"
            full = chain + (pattern.pattern,)
            yield Route(
                name=name,
                route="".join(str(p) for p in full),
                chain=full,
                callback=pattern.callback,
            )


def _format(pattern) -> tuple[str, list[str]]:
    """A format string and its parameter names for one level of the tree."""
    regex = pattern.regex.pattern.removeprefix("^")
    if regex in (".*/$", ".*/\\Z"):  # Wagtail admin's catch-all 404
        return "no-such-admin-page/", []
    # Django's own reverse() uses normalize(); the first form is the shortest.
    text, params = normalize(regex)[0]
    return text, list(params)


def _unique_positional(params: list[str], depth: int) -> list[str]:
    # Positional groups are called _0, _1 at every level: make them distinct.
    return [f"{p}@{depth}" if re.fullmatch(r"_\d+", p) else p for p in params]


def build(route: Route, filler: ParamFiller) -> Target | str:
    """A Target for the route, or the reason it cannot be built."""
    pieces, values, owned = [], {}, False
    for depth, pattern in enumerate(route.chain):
        try:
            text, params = _format(pattern)
        except (NotImplementedError, ValueError) as exc:
            return f"pattern cannot be reversed ({exc.__class__.__name__})"
        names = _unique_positional(params, depth)
        for param, unique in zip(params, names, strict=True):
            text = text.replace(f"%({param})s", f"%({unique})s", 1)
        for name in names:
            value = filler.value(route, name.split("@")[0], depth)
            if value is None:
                return f"no value for parameter {name.split('@')[0]!r}"
            values[name], is_owned = value
            owned = owned or is_owned
        pieces.append(text)
    path = "/" + "".join(pieces) % values
    try:
        match = resolve(path)
    except Resolver404:
        return f"built {path} but it does not resolve"
    if match.func is not route.callback:
        return f"built {path} but it resolves to {match.view_name}"
    return Target(route=route, path=path, owned=owned)


def walk(filler: ParamFiller, languages=None) -> Walk:
    """Concrete addresses for every route, in each language (i18n_patterns)."""
    result, seen = Walk(), set()
    for language in languages or [code for code, _ in settings.LANGUAGES]:
        with translation.override(language):
            for route in iter_routes():
                built = build(route, filler)
                if isinstance(built, str):
                    if route.name not in {r.name for r, _ in result.skipped}:
                        result.skipped.append((route, built))
                elif built.path not in seen:
                    seen.add(built.path)
                    result.targets.append(built)
    for target in page_targets(languages):
        if target.path not in seen:
            seen.add(target.path)
            result.targets.append(target)
    return result


def page_targets(languages=None) -> list[Target]:
    """Every Wagtail page (live or draft) at its address, in its own language's tree.

    Wagtail serves all pages through one catch-all route, which the resolver walk
    reaches only once (the root): the pages themselves are rows, so they come from
    the page tree. Drafts are included: their address must answer 404 to everyone.
    Each language has its tree (Wagtail i18n): the root page's translations.
    """
    from wagtail.models import Page, Site

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return []
    serve = next(r for r in iter_routes() if r.name == "wagtail_serve")
    wanted = languages or [code for code, _ in settings.LANGUAGES]
    targets = []
    for root in site.root_page.get_translations(inclusive=True).select_related(
        "locale"
    ):
        language = root.locale.language_code
        if language not in wanted:
            continue
        prefix = "" if language == settings.LANGUAGE_CODE else f"/{language}"
        for page in Page.objects.descendant_of(root, inclusive=True):
            path = f"{prefix}/{page.url_path.removeprefix(root.url_path)}"
            with translation.override(language):
                try:
                    match = resolve(path)
                except Resolver404:
                    continue
            if match.func is serve.callback:
                targets.append(Target(route=serve, path=path))
    return targets


class ParamFiller:
    """Values for path parameters, keyed by parameter name and the view's model.

    `by_model` maps a model to the object its pk parameters take (owned by mailing
    user A where the model has an owner); `by_name` maps a parameter name to a value,
    or to a callable of the route returning one (None: cannot fill).
    """

    PK_NAMES = {"pk", "object_id", "id"}

    def __init__(self, by_model: dict, by_name: dict, owner=None):
        self.by_model = by_model
        self.by_name = by_name
        self.owner = owner

    def _is_owned(self, obj) -> bool:
        owner_id = getattr(obj, "owner_id", None)
        if owner_id is None and hasattr(obj, "mailing"):
            owner_id = obj.mailing.owner_id
        return self.owner is not None and owner_id == self.owner.pk

    def value(self, route: Route, name: str, depth: int):
        model = route.view_model or route.namespace_model
        if name in self.PK_NAMES and model is not None:
            obj = self._object_for(model)
            if obj is None:
                return None
            return str(obj.pk), self._is_owned(obj)
        filled = self.by_name.get(name)
        if callable(filled):
            filled = filled(route)
        if filled is None:
            return None
        if hasattr(filled, "pk"):
            return str(filled.pk), self._is_owned(filled)
        return str(filled), False

    def _object_for(self, model):
        for known, obj in self.by_model.items():
            if issubclass(model, known):
                return obj
        # Rows every install has (the default site, the root collection...).
        return model._default_manager.order_by("pk").first()


# --- Query strings: what the views take besides their path ------------------------


@dataclass
class Probes:
    """What a world offers to query strings: `ids(model)` gives ids of objects of
    every owner (and drafts) for a model, `searches` the words that find them."""

    ids: Callable
    searches: tuple[str, ...]


CHOOSER_SEARCHES = ("*:choose", "*:choose_results", "wagtailadmin_choose_page_search")
BULK_ACTION_ROUTE = "wagtail_bulk_action"


def with_query_strings(walked: Walk, probes: Probes) -> list[Target]:
    """The walk's addresses again as their views are really used: every listing and
    report exported as CSV and XLSX, every chooser searched and given ids of several
    owners, and every registered bulk action confirming ids of several owners."""
    variants = []
    for target in walked.targets:
        variants += export_variants(target)
        variants += chooser_variants(target, probes)
    variants += bulk_action_targets(probes)
    return variants


def _exports(route: Route) -> bool:
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    view = route.view_class
    if view is None or not issubclass(view, SpreadsheetExportMixin):
        return False
    initkwargs = getattr(route.callback, "view_initkwargs", None) or {}
    return bool(initkwargs.get("list_export", view.list_export))


def export_variants(target: Target) -> list[Target]:
    if target.query or not _exports(target.route):
        return []
    return [
        Target(target.route, target.path, target.owned, query=f"?export={fmt}")
        for fmt in ("csv", "xlsx")
    ]


def chooser_variants(target: Target, probes: Probes) -> list[Target]:
    name = target.route.name
    if name.endswith("chosen_multiple"):
        from wagtail.models import Page

        model = target.route.view_model or Page
        ids = "&".join(f"id={pk}" for pk in probes.ids(model))
        return [Target(target.route, target.path, query=f"?{ids}", foreign=True)]
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in CHOOSER_SEARCHES):
        return [
            Target(target.route, target.path, query=f"?q={word}", foreign=True)
            for word in probes.searches
        ]
    return []


def bulk_action_targets(probes: Probes) -> list[Target]:
    """One address per registered bulk action (model and action), its confirmation
    asked for objects of every owner. Policy rows are named
    "wagtail_bulk_action:<app>.<model>.<action>"."""
    from django.apps import apps
    from wagtail.admin.views.bulk_action.registry import bulk_action_registry

    route = next(r for r in iter_routes() if r.name == BULK_ACTION_ROUTE)
    targets = []
    for model in apps.get_models():
        meta = model._meta
        actions = bulk_action_registry.get_bulk_actions_for_model(
            meta.app_label, meta.model_name
        )
        if not actions:
            continue
        query = "?" + "&".join(f"id={pk}" for pk in probes.ids(model))
        for action in sorted(action.action_type for action in actions):
            targets.append(
                Target(
                    route,
                    f"/admin/bulk/{meta.app_label}/{meta.model_name}/{action}/",
                    query=query,
                    foreign=True,
                    policy_name=(
                        f"{BULK_ACTION_ROUTE}:{meta.app_label}.{meta.model_name}"
                        f".{action}"
                    ),
                )
            )
    return targets
