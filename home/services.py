"""The home page's figures, read from `mailing` through its one public function."""

from django.core.cache import cache

from mailing.stats import service_figures

FIGURES_KEY = "home:figures"
FIGURES_SECONDS = 60


def live_figures() -> dict[str, int]:
    """Mailings in total, running mailings and unique clients, at most a minute old.

    Three aggregate queries over the mailing tables: cheap once, not per visitor.
    """
    figures = cache.get(FIGURES_KEY)
    if figures is None:
        figures = service_figures()
        cache.set(FIGURES_KEY, figures, FIGURES_SECONDS)
    return figures
