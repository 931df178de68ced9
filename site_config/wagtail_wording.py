"""Wagtail messages whose Russian in Wagtail's own catalogue reads wrong.

Wagtail puts a plural noun into "Нет %(model_name)s для отображения" ("Нет сегменты
для отображения. Почему бы не добавить одну?") and "%(model_name)sне соответствует"
(no space). The same msgids in our catalogue win (LOCALE_PATHS comes before the
apps' catalogues); marking them here keeps them there when `make messages` runs.
"""

from django.utils.translation import gettext_noop

WAGTAIL_LISTING_MESSAGES = (
    gettext_noop(
        'There are no %(model_name)s to display. Why not <a href="%(add_url)s">'
        "add one</a>?"
    ),
    gettext_noop("There are no %(model_name)s to display."),
    gettext_noop("No %(model_name)s match your query."),
)
