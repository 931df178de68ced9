"""Admin pages that act on one object: mailing actions and manager moderation.

Every action asks for confirmation (GET shows the page, POST acts) and checks the
permission policy on the object it loads.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView
from wagtail.admin.widgets import HeaderButton
from wagtail.snippets.views import snippets

from accounts.models import User

from . import audiences, control, copying, moderation, resend, services
from .admin_pages import AdminPageMixin, mailing_crumbs
from .admin_views import RoleGatedMixin
from .forms import PreviewRecipientForm
from .models import Mailing, MailingRun
from .permissions import policy_for
from .rendering import render_email

PREVIEW_UNSUBSCRIBE_URL = "#unsubscribe-preview"
UNKNOWN_LISTED = 100


def allowed(user, action: str, mailing: Mailing) -> bool:
    return policy_for(Mailing).user_has_permission_for_instance(user, action, mailing)


def has_live_run(mailing: Mailing) -> bool:
    # A listing annotates it (admin_views.MailingIndexView): no query per row.
    live = getattr(mailing, "has_live_run", None)
    if live is None:
        live = mailing.runs.filter(status__in=control.LIVE_RUN).exists()
    return live


# What a mailing's header shows; the rest go under its "..." menu. All of them
# pushed the page's title out of the header at 1280 pixels in Russian.
HEADER_ACTIONS = frozenset(
    {"send_now", "cancel", "preview", "report", "disable", "enable"}
)


# After Wagtail's own (Edit 10, Delete 20, ...).
BUTTONS_FROM = 100


def mailing_action_buttons(
    request, mailing: Mailing, button_class=HeaderButton, in_header=None
):
    """The buttons of a mailing's page, each shown only to who may use it;
    `in_header` True or False picks those of the header or of its menu."""
    user, pk = request.user, mailing.pk
    candidates = [
        ("change", "send_now", gettext_lazy("Send now"), "mail"),
        ("change", "send_test", gettext_lazy("Send a test to me"), "mail"),
        ("change", "copy", gettext_lazy("Copy"), "copy"),
        ("view", "preview", gettext_lazy("Preview"), "view"),
        ("view", "report", gettext_lazy("Report"), "table"),
    ]
    if mailing.is_paused:
        candidates.append(("change", "resume", gettext_lazy("Resume"), "resubmit"))
    else:
        candidates.append(("change", "pause", gettext_lazy("Pause"), "time"))
    if has_live_run(mailing):
        candidates.append(
            ("change", "cancel", gettext_lazy("Cancel sending"), "circle-xmark")
        )
    if mailing.is_enabled:
        candidates.append(("disable", "disable", gettext_lazy("Disable"), "cross"))
    else:
        candidates.append(("disable", "enable", gettext_lazy("Re-enable"), "tick"))
    # Wagtail sorts buttons by (priority, label): with one priority for all, the
    # order followed the alphabet of the language shown. Each keeps its place here.
    return [
        button_class(
            label,
            url=reverse(f"mailing_mailing:{name}", args=[pk]),
            icon_name=icon,
            priority=BUTTONS_FROM + place,
        )
        for place, (action, name, label, icon) in enumerate(candidates)
        if in_header in (None, name in HEADER_ACTIONS)
        and allowed(user, action, mailing)
    ]


class MailingActionView(AdminPageMixin, TemplateView):
    """Loads a mailing the user may act on; GET confirms, POST acts."""

    action = "change"
    header_icon = "mail"
    template_name = "mailing/admin/confirm.html"
    confirm_label = gettext_lazy("Yes")
    question = ""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(
            Mailing.objects.select_related("message", "owner"), pk=kwargs["pk"]
        )

    def dispatch(self, request, *args, **kwargs):
        if not allowed(request.user, self.action, self.object):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.object)

    def get_parent_breadcrumbs(self):
        return mailing_crumbs(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object=self.object, question=self.question, confirm_label=self.confirm_label
        )
        return context

    def post(self, request, *args, **kwargs):
        self.act()
        return redirect("mailing_mailing:inspect", self.object.pk)


class SendNowView(MailingActionView):
    page_title = gettext_lazy("Send now")
    question = gettext_lazy("Send this mailing to all its recipients now?")

    def act(self):
        try:
            run = services.send_now(self.object, self.request.user)
        except services.SendError as error:
            messages.error(self.request, str(error))
            return
        if run.status == run.Status.SKIPPED:
            messages.warning(
                self.request,
                _("No new blog post since the previous issue: nothing was sent."),
            )
            return
        messages.success(self.request, _("The mailing is queued for sending."))


class SendUnknownView(MailingActionView):
    """Resend the rows left `unknown` (the report lists them): owner only, POST."""

    page_title = gettext_lazy("Resend the unknown")
    confirm_label = gettext_lazy("Resend these")
    template_name = "mailing/admin/send_unknown.html"

    @property
    def question(self):
        count = resend.unresolved_unknown(self.object).count()
        return ngettext(
            "Send this mailing again to %(count)d recipient whose email may or may "
            "not have gone out?",
            "Send this mailing again to the %(count)d recipients whose email may or "
            "may not have gone out?",
            count,
        ) % {"count": count}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["unknown"] = (
            resend.unresolved_unknown(self.object)
            .select_related("client", "run")
            .order_by("pk")[:UNKNOWN_LISTED]
        )
        return context

    def act(self):
        try:
            run = resend.resend_unknown(self.object, self.request.user)
        except services.SendError as error:
            messages.error(self.request, str(error))
            return
        messages.success(
            self.request,
            ngettext(
                "Run %(run)s resends the mailing to %(count)d recipient.",
                "Run %(run)s resends the mailing to %(count)d recipients.",
                run.total,
            )
            % {"run": run.pk, "count": run.total},
        )


class SendTestView(MailingActionView):
    page_title = gettext_lazy("Send a test to me")
    question = gettext_lazy("Send one test email of this mailing to your address?")

    def act(self):
        try:
            services.send_test(self.object, self.request.user)
        except services.SendError as error:
            messages.error(self.request, str(error))
            return
        messages.success(
            self.request,
            _("A test email was sent to %(email)s.")
            % {"email": self.request.user.email},
        )


class ToggleMailingView(MailingActionView):
    action = "disable"
    enable = False

    def get_page_title(self):
        return _("Re-enable the mailing") if self.enable else _("Disable the mailing")

    @property
    def question(self):
        if self.enable:
            return _("Re-enable this mailing? It will be sent on its schedule again.")
        return _(
            "Disable this mailing? What of it is sending stops and is cancelled, and "
            "nothing of it is sent until it is re-enabled."
        )

    def act(self):
        moderation.set_mailing_enabled(self.object, self.enable, by=self.request.user)
        if self.enable:
            messages.success(self.request, _("The mailing is enabled."))
        else:
            messages.success(self.request, _("The mailing is disabled."))


class PauseMailingView(MailingActionView):
    page_title = gettext_lazy("Pause the mailing")
    question = gettext_lazy(
        "Pause this mailing? Sending stops within moments and no new run starts; "
        "recipients not yet sent to wait until you resume it."
    )
    confirm_label = gettext_lazy("Pause")

    def act(self):
        control.pause_mailing(self.object)
        messages.success(self.request, _("The mailing is paused."))


class ResumeMailingView(MailingActionView):
    page_title = gettext_lazy("Resume the mailing")
    question = gettext_lazy(
        "Resume this mailing? Paused runs carry on with the recipients not yet "
        "sent to, and its schedule applies again."
    )
    confirm_label = gettext_lazy("Resume")

    def act(self):
        control.resume_mailing(self.object)
        messages.success(self.request, _("The mailing is resumed."))


class CancelMailingView(MailingActionView):
    page_title = gettext_lazy("Cancel sending")
    question = gettext_lazy(
        "Cancel every run of this mailing in progress? Recipients not yet sent to "
        "are not sent this time. Its later scheduled sends still happen."
    )
    confirm_label = gettext_lazy("Cancel sending")

    def act(self):
        if control.cancel_mailing(self.object):
            messages.success(self.request, _("Sending is cancelled."))
        else:
            messages.warning(self.request, _("Nothing of this mailing is sending."))


class RunActionView(MailingActionView):
    """Pause, resume or cancel one run of the mailing (from its report)."""

    verb = "pause"
    titles = {
        "pause": gettext_lazy("Pause the run"),
        "resume": gettext_lazy("Resume the run"),
        "cancel": gettext_lazy("Cancel the run"),
    }
    questions = {
        "pause": gettext_lazy(
            "Pause this run? Recipients not yet sent to wait until you resume it."
        ),
        "resume": gettext_lazy(
            "Resume this run? It carries on with the recipients not yet sent to."
        ),
        "cancel": gettext_lazy(
            "Cancel this run? Recipients not yet sent to are not sent this time."
        ),
    }
    done = {
        "pause": gettext_lazy("The run is paused."),
        "resume": gettext_lazy("The run is resumed."),
        "cancel": gettext_lazy("The run is cancelled."),
    }

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.run = get_object_or_404(
            MailingRun, pk=kwargs["run_id"], mailing=self.object
        )

    def get_page_title(self):
        return self.titles[self.verb]

    def get_page_subtitle(self):
        return f"{self.object} · {self.run.slot:%Y-%m-%d %H:%M}"

    @property
    def question(self):
        return self.questions[self.verb]

    @property
    def confirm_label(self):
        return _("Yes")

    def act(self):
        try:
            getattr(control, f"{self.verb}_run")(self.run)
        except control.ControlError as error:
            messages.error(self.request, str(error))
            return
        messages.success(self.request, self.done[self.verb])

    def post(self, request, *args, **kwargs):
        self.act()
        return redirect("mailing_mailing:report", self.object.pk)


class PreviewView(MailingActionView):
    action = "view"
    page_title = gettext_lazy("Preview")
    template_name = "mailing/admin/preview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        clients = audiences.recipients(self.object).order_by("email")
        form = PreviewRecipientForm(self.request.GET or None, clients=clients)
        client = form.cleaned_data.get("client") if form.is_valid() else None
        client = client or clients.first()
        if client is not None:
            context["email"] = render_email(
                self.object.message, client, PREVIEW_UNSUBSCRIBE_URL
            )
        context.update(form=form, client=client)
        return context

    def post(self, request, *args, **kwargs):
        raise Http404


class MailingCopyView(snippets.CopyView):
    """Wagtail's copy: the add form filled from the mailing; saving creates it.

    Only who may change the mailing copies it (Wagtail's own check lets viewers,
    such as managers, copy too).
    """

    def get_object(self, queryset=None):
        mailing = get_object_or_404(
            Mailing.objects.select_related("owner"), pk=self.kwargs[self.pk_url_kwarg]
        )
        if not allowed(self.request.user, "change", mailing):
            raise PermissionDenied
        return mailing

    def get_initial_form_instance(self):
        self.original = self.get_object()
        return copying.copy_of(self.original)

    def get_initial(self):
        initial = super().get_initial()
        initial["lists"] = copying.list_ids(self.get_object())
        return initial


# --- Users (managers) --------------------------------------------------------------


class UserIndexView(RoleGatedMixin, AdminPageMixin, TemplateView):
    page_title = gettext_lazy("Users")
    header_icon = "user"
    template_name = "mailing/admin/users.html"

    allowed = staticmethod(moderation.may_block)

    def get_context_data(self, **kwargs):
        from django.db.models import Count

        context = super().get_context_data(**kwargs)
        context["users"] = (
            User.objects.filter(is_superuser=False)
            .annotate(mailing_count=Count("mailings"))
            .order_by("email")
        )
        return context


class BlockUserView(AdminPageMixin, TemplateView):
    header_icon = "user"
    template_name = "mailing/admin/confirm.html"
    block = True

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(User, pk=kwargs["pk"])

    def dispatch(self, request, *args, **kwargs):
        if not moderation.may_block_user(request.user, self.object):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _("Block the user") if self.block else _("Unblock the user")

    def get_page_subtitle(self):
        return self.object.email

    def get_parent_breadcrumbs(self):
        return [{"url": reverse("mailing_users:index"), "label": _("Users")}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.block:
            question = _(
                "Block %(email)s? They are signed out at once, cannot sign in, "
                "none of their mailings is sent and what is sending stops (the "
                "emails already handed to the mail server still go out)."
            )
        else:
            question = _("Unblock %(email)s?")
        context.update(
            object=self.object,
            question=question % {"email": self.object.email},
            confirm_label=_("Yes"),
        )
        return context

    def post(self, request, *args, **kwargs):
        moderation.set_user_blocked(self.object, self.block, by=request.user)
        if self.block:
            messages.success(
                request, _("%(email)s is blocked.") % {"email": self.object.email}
            )
        else:
            messages.success(
                request, _("%(email)s is unblocked.") % {"email": self.object.email}
            )
        return redirect("mailing_users:index")
