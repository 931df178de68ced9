"""The owner's API tokens in the admin: make one (shown once), see them, revoke.

Each user sees and revokes only their own tokens; a foreign token id is 404.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from accounts.models import ApiToken

from ..admin_pages import AdminPageMixin
from ..admin_views import RoleGatedMixin
from ..models import single_line
from .permissions import may_use_api
from .tokens import issue_token, revoke_token

# accounts' model calls its plural "API tokens" in lower case, as Django's
# verbose names are: the page's title is its own message.
PAGE_TITLE = pgettext_lazy("page title", "API tokens")


class TokenForm(forms.Form):
    # One line, as it is listed: a newline or a control character was stored.
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=100, validators=[single_line]
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Scope"),
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
    )


class TokenPageMixin(RoleGatedMixin, AdminPageMixin):
    allowed = staticmethod(may_use_api)
    header_icon = "key"


@method_decorator(never_cache, name="dispatch")
class TokenIndexView(TokenPageMixin, FormView):
    page_title = PAGE_TITLE
    template_name = "mailing/admin/api_tokens.html"
    form_class = TokenForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tokens"] = ApiToken.objects.filter(user=self.request.user)
        return context

    def form_valid(self, form):
        token, raw = issue_token(
            self.request.user, form.cleaned_data["name"], form.cleaned_data["scope"]
        )
        # Shown in this answer only: the database keeps just its hash.
        return self.render_to_response(
            self.get_context_data(form=TokenForm(), new_token=token, raw_token=raw)
        )


class RevokeTokenView(TokenPageMixin, TemplateView):
    page_title = gettext_lazy("Revoke the API token")
    template_name = "mailing/admin/confirm.html"

    @cached_property
    def object(self) -> ApiToken:
        # Looked up after the role check (dispatch): only one's own live tokens.
        return get_object_or_404(
            ApiToken,
            pk=self.kwargs["pk"],
            user_id=self.request.user.pk,
            revoked_at__isnull=True,
        )

    def get_page_subtitle(self):
        return str(self.object)

    def get_parent_breadcrumbs(self):
        return [{"url": reverse("mailing_api_tokens:index"), "label": PAGE_TITLE}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            question=_("Revoke this token? Programs using it lose access at once."),
            confirm_label=_("Revoke"),
        )
        return context

    def post(self, request, *args, **kwargs):
        revoke_token(self.object)
        messages.success(request, _("The token is revoked."))
        return redirect("mailing_api_tokens:index")
