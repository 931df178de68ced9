"""The "Send as newsletter" item of a blog post's action menu and its form."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin.action_menu import ActionMenuItem
from wagtail.admin.widgets import AdminDateTimeInput

from blog.models import BlogPage

from . import audiences
from .admin_pages import AdminPageMixin
from .models import Client, MailingList
from .newsletter import may_send_newsletter, send_post_as_newsletter
from .services import SendError


class NewsletterMenuItem(ActionMenuItem):
    label = gettext_lazy("Send as newsletter")
    name = "action-send-newsletter"
    icon_name = "mail"
    order = 60

    def is_shown(self, context):
        page = context.get("page")
        return (
            context["view"] == "edit"
            and isinstance(page, BlogPage)
            and may_send_newsletter(context["request"].user, page)
        )

    def get_url(self, parent_context):
        return reverse("mailing_send_newsletter", args=[parent_context["page"].pk])


class NewsletterForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=255)
    lists = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Lists"),
        queryset=MailingList.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    all_clients = forms.BooleanField(
        label=gettext_lazy("All my clients"), required=False
    )
    send_at = forms.DateTimeField(
        label=gettext_lazy("Send at"),
        required=False,
        widget=AdminDateTimeInput,
        help_text=gettext_lazy("Empty: send now."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the editor's own lists; the people are resolved when it is sent.
        self.fields["lists"].queryset = MailingList.objects.filter(owner=user)
        self.has_clients = Client.objects.filter(owner=user).exists()

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("lists") or cleaned.get("all_clients")):
            raise forms.ValidationError(
                gettext_lazy("Choose at least one list, or all your clients.")
            )
        return cleaned


class SendNewsletterView(AdminPageMixin, FormView):
    page_title = gettext_lazy("Send as newsletter")
    header_icon = "mail"
    template_name = "mailing/admin/send_newsletter.html"
    form_class = NewsletterForm

    def dispatch(self, request, *args, **kwargs):
        self.post_page = get_object_or_404(BlogPage, pk=kwargs["page_id"])
        if not may_send_newsletter(request.user, self.post_page):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.post_page.title

    def get_parent_breadcrumbs(self):
        # The header ends with this page's title, after the post it sends.
        return [
            {
                "url": reverse("wagtailadmin_pages:edit", args=[self.post_page.pk]),
                "label": self.post_page.title,
            }
        ]

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {"subject": self.post_page.title}

    def form_valid(self, form):
        try:
            mailing = send_post_as_newsletter(
                self.post_page,
                self.request.user,
                form.cleaned_data["lists"],
                form.cleaned_data["subject"],
                form.cleaned_data["send_at"],
                all_clients=form.cleaned_data["all_clients"],
            )
        except SendError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("“%(title)s” is on its way to %(count)s recipients.")
            % {
                "title": self.post_page.title,
                "count": audiences.recipient_count(mailing),
            },
        )
        return redirect("wagtailadmin_pages:edit", self.post_page.pk)
