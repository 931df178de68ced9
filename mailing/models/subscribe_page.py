"""A Wagtail page with a list's subscribe form, placed by editors or owners.

Who may choose which list: the one editing picks among their own lists; a list
already on the page (someone else's) may stay, but never be swapped for another
owner's. The form itself posts to the list's hosted address, so the page keeps no
state and stays cacheable whole.
"""

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel
from wagtail.models import Page

from home.page_cache import CachedPageMixin

from .audiences import MailingList


class SubscribePageForm(WagtailAdminPageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("mailing_list")
        if field is None:
            return
        user = getattr(self, "for_user", None)
        allowed = models.Q(owner_id=getattr(user, "pk", None))
        if self.instance.mailing_list_id:
            allowed |= models.Q(pk=self.instance.mailing_list_id)
        field.queryset = MailingList.objects.filter(allowed).order_by("name")


class SubscribePage(CachedPageMixin, Page):
    intro = models.TextField(_("introduction"), blank=True)
    mailing_list = models.ForeignKey(
        MailingList,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("list"),
        help_text=_("One of your lists; its public form must be enabled."),
    )

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("mailing_list", widget=forms.Select),
    ]
    base_form_class = SubscribePageForm

    def get_context(self, request, *args, **kwargs):
        from ..subscribe import open_form
        from ..subscribe_forms import SubscribeForm

        context = super().get_context(request, *args, **kwargs)
        settings = open_form(self.mailing_list_id)
        context["form_settings"] = settings
        if settings is not None:
            context["form"] = SubscribeForm(consent_text=settings.consent_text)
        return context

    parent_page_types = ["home.HomePage"]
    subpage_types = []

    class Meta:
        verbose_name = _("subscribe page")
        verbose_name_plural = _("subscribe pages")
