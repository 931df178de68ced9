"""Wagtail messages whose Russian in Wagtail's own catalogue reads wrong.

Wagtail puts a plural noun into "Нет %(model_name)s для отображения" ("Нет сегменты
для отображения. Почему бы не добавить одну?") and "%(model_name)sне соответствует"
(no space). The same msgids in our catalogue win (LOCALE_PATHS comes before the
apps' catalogues); marking them here keeps them there when `make messages` runs.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

WAGTAIL_LISTING_MESSAGES = (
    gettext_noop(
        'There are no %(model_name)s to display. Why not <a href="%(add_url)s">'
        "add one</a>?"
    ),
    gettext_noop("There are no %(model_name)s to display."),
    gettext_noop("No %(model_name)s match your query."),
)

# Wagtail's Russian puts our models' names into fixed genders and cases: "Клиент
# 'Ivan' создана", "Не удалось создать рассылка", "Новый: Рассылка", "удалить этот
# клиент?", "Редактирование Главная страница". The name stands where no word has
# to agree with it.
WAGTAIL_MODEL_MESSAGES = (
    gettext_noop("New: %(model_name)s"),
    gettext_noop("Editing %(page_type)s"),
    gettext_noop("%(model_name)s '%(object)s' created."),
    gettext_noop("%(model_name)s '%(object)s' updated."),
    gettext_noop("%(model_name)s '%(object)s' deleted."),
    gettext_noop("The %(model_name)s could not be created due to errors."),
    gettext_noop("The %(model_name)s could not be saved due to errors."),
    gettext_noop("Are you sure you want to delete this %(model_name)s?"),
    gettext_noop("Delete %(snippet_type_name)s"),
    gettext_noop("Are you sure you want to delete this %(snippet_type_name)s?"),
    gettext_noop("Are you sure you want to delete %(count)s %(snippet_type_name)s?"),
    gettext_noop("You don't have permission to delete this %(snippet_type_name)s"),
    ngettext_lazy(
        "This %(model_name)s is referenced %(usage_count)s time.",
        "This %(model_name)s is referenced %(usage_count)s times.",
    ),
    ngettext_lazy(
        "%(count)d %(model_name)s deleted.", "%(count)d %(model_name)s deleted."
    ),
)

# The page explorer's column header: Wagtail's Russian has none of these, so "1-2 of
# 2 страницы" was half English, and after a number the plural name needs the case
# the number asks for. The name comes first, as in our listings' "Клиенты: 3".
WAGTAIL_PAGE_LISTING_MESSAGES = (
    gettext_noop("%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s"),
    gettext_noop(
        "%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s across "
        "entire site."
    ),
    gettext_noop(
        "%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s in "
        "'<span class=\"w-title-ellipsis\">%(title)s</span>'."
    ),
)
