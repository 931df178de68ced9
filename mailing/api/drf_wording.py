"""Django REST framework's messages that its Russian catalogue leaves in English.

A msgid missing from one catalogue is looked up in every other one Django
loaded, so ours supplies the Russian; marking the msgids here keeps them in our
catalogue when `make messages` runs (see site_config/wagtail_wording.py).
"""

from django.utils.translation import gettext_noop

DRF_FIELD_MESSAGES = (
    gettext_noop("Datetime value out of range."),
    gettext_noop('Invalid datetime for the timezone "{timezone}".'),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("Not a valid string."),
    gettext_noop("Must be a valid UUID."),
    gettext_noop("A valid biginteger is required."),
    gettext_noop("Integer value too large to convert to float"),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    gettext_noop("Ensure this field has at least {min_length} elements."),
    gettext_noop("This dictionary may not be empty."),
    gettext_noop("Invalid input."),
    # Translated by DRF, half of it left in English ("Ожидался dictionary").
    gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
)
