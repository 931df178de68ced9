"""Admin pages for writing: the message editor's test send, sender identities'
confirmation, shared layouts. Each checks the permission policy on its object."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.widgets import HeaderButton

from . import services
from .admin_pages import AdminPageMixin, listing_crumb
from .admin_views import OwnedCreateView, OwnedEditView, OwnedInspectView
from .models import Message, SenderIdentity
from .permissions import policy_for
from .senders import (
    ask_for_confirmation,
    request_confirmation,
    too_many_links_message,
)


def _allowed(user, action: str, obj) -> bool:
    return policy_for(type(obj)).user_has_permission_for_instance(user, action, obj)


class ObjectActionView(AdminPageMixin, TemplateView):
    """GET asks, POST acts, on an object the user may `action`."""

    model = Message
    action = "change"
    template_name = "mailing/admin/confirm.html"
    confirm_label = gettext_lazy("Yes")
    question = ""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(self.model, pk=kwargs["pk"])

    def dispatch(self, request, *args, **kwargs):
        if not _allowed(request.user, self.action, self.object):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.object)

    def get_parent_breadcrumbs(self):
        namespace = f"mailing_{self.model._meta.model_name}"
        return [
            listing_crumb(self.model),
            {
                "url": reverse(f"{namespace}:edit", args=[self.object.pk]),
                "label": str(self.object),
            },
        ]

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "object": self.object,
            "question": self.question,
            "confirm_label": self.confirm_label,
        }


# --- Messages ------------------------------------------------------------------------


class SendTestMessageView(ObjectActionView):
    header_icon = "mail"
    page_title = gettext_lazy("Send a test to me")
    question = gettext_lazy(
        "Send the saved version of this message to your own address? "
        "Save your changes first."
    )

    def post(self, request, *args, **kwargs):
        try:
            services.send_test_message(self.object, request.user)
        except services.SendError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("A test email was sent to %(email)s.")
                % {"email": request.user.email},
            )
        return redirect("mailing_message:edit", self.object.pk)


class MessageEditView(OwnedEditView):
    @cached_property
    def header_buttons(self):
        url = reverse("mailing_message:send_test", args=[self.object.pk])
        return [HeaderButton(_("Send a test to me"), url=url, icon_name="mail")]


# --- Sender identities -------------------------------------------------------------


class SenderConfirmationMixin:
    def save_instance(self):
        identity = super().save_instance()
        asked = ask_for_confirmation(identity)
        if asked is False:
            messages.warning(self.request, too_many_links_message(identity))
        elif asked:
            messages.info(
                self.request,
                _(
                    "We sent a confirmation link to %(email)s. The identity can be "
                    "used once you open it and confirm."
                )
                % {"email": identity.from_email},
            )
        return identity


class SenderIdentityCreateView(SenderConfirmationMixin, OwnedCreateView):
    pass


class SenderIdentityEditView(SenderConfirmationMixin, OwnedEditView):
    @cached_property
    def header_buttons(self):
        if self.object.is_confirmed:
            return []
        url = reverse("mailing_senderidentity:resend", args=[self.object.pk])
        return [HeaderButton(_("Send the link again"), url=url, icon_name="mail")]


class SenderIdentityInspectView(OwnedInspectView):
    pass


class ResendConfirmationView(ObjectActionView):
    model = SenderIdentity
    header_icon = "mail"
    page_title = gettext_lazy("Send the confirmation link again")

    @property
    def question(self):
        return _("Send a new confirmation link to %(email)s?") % {
            "email": self.object.from_email
        }

    def post(self, request, *args, **kwargs):
        if self.object.is_confirmed:
            messages.info(request, _("This identity is already confirmed."))
        elif not request_confirmation(self.object):
            messages.warning(request, too_many_links_message(self.object))
        else:
            messages.success(
                request,
                _("A new confirmation link was sent to %(email)s.")
                % {"email": self.object.from_email},
            )
        return redirect("mailing_senderidentity:edit", self.object.pk)
