"""Public account pages. Thin: forms validate, services act, views show the outcome."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django.views.generic import FormView, TemplateView

from . import services
from .forms import (
    EmailChangeForm,
    EmailForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    SetPasswordForm,
    SignupForm,
)
from .throttling import (
    LOGIN_FAILURES,
    PASSWORD_RESETS,
    Attempt,
    forgive_account,
    reserve,
)


class LoginView(auth_views.LoginView):
    """Django's login (session key rotated by `login()`, `next=` checked by
    url_has_allowed_host_and_scheme) with our form."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["resend_form"] = EmailForm(
            initial={"email": getattr(context["form"], "unverified_email", "")}
        )
        return context


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link or an image tag cannot sign anyone out."""

    def http_method_not_allowed(self, request, *args, **kwargs):
        # Someone who opened the address (a bookmark, a typed URL) got a blank
        # page: still a 405 that signs nobody out, now with the button to do it.
        refused = super().http_method_not_allowed(request, *args, **kwargs)
        if request.method != "GET":
            return refused
        response = render(request, "accounts/logout.html", status=405)
        response["Allow"] = refused["Allow"]
        return response

    def get_default_redirect_url(self):
        # LOGOUT_REDIRECT_URL ("/") is the Russian home: signing out of the
        # English site landed on it. The home in the language of this address.
        return reverse("wagtail_serve", args=[""])


class SignupView(FormView):
    form_class = SignupForm
    template_name = "accounts/signup.html"
    success_url = reverse_lazy("accounts:signup_done")

    def dispatch(self, request, *args, **kwargs):
        # As the login does (redirect_authenticated_user): a signed-in visitor was
        # shown the form, and posting it mailed a sign-up link for another address.
        if request.user.is_authenticated:
            return redirect(settings.LOGIN_REDIRECT_URL)
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        services.register(
            form.cleaned_data["email"], language=self.request.LANGUAGE_CODE
        )
        # The same answer whether or not the address already had an account.
        return super().form_valid(form)


class SignupDoneView(TemplateView):
    template_name = "accounts/signup_done.html"


class ResendVerificationView(FormView):
    form_class = EmailForm
    template_name = "accounts/resend_verification.html"
    success_url = reverse_lazy("accounts:signup_done")

    def get_initial(self):
        return {"email": self.request.GET.get("email", "")}

    def form_valid(self, form):
        services.resend_verification(form.cleaned_data["email"])
        return super().form_valid(form)


@method_decorator(
    sensitive_post_parameters("new_password1", "new_password2"), "dispatch"
)
class FinishSignupView(FormView):
    """The emailed link: whoever follows it chooses the password, and is in.

    Opening the link changes nothing (mail scanners open links); the POST with a
    valid password verifies the address, activates the account and signs in.
    """

    form_class = SetPasswordForm
    template_name = "accounts/finish_signup.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            self.account = services.account_to_verify(kwargs["token"])
        except services.InvalidLink:
            return render(request, "accounts/link_invalid.html", status=400)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.account}

    def form_valid(self, form):
        try:
            user = services.finish_sign_up(
                self.account, form.cleaned_data["new_password1"]
            )
        except services.InvalidLink:
            return render(self.request, "accounts/link_invalid.html", status=400)
        login(self.request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        messages.success(
            self.request, _("Your email address is verified and your password is set.")
        )
        return redirect(settings.LOGIN_REDIRECT_URL)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Throttled or not, the answer is the same redirect: only the flashed
        # message differs, and it depends on the counters, never on the account.
        attempt = Attempt.of(PASSWORD_RESETS, self.request, form.cleaned_data["email"])
        if reserve(attempt):
            messages.warning(
                self.request,
                _(
                    "You asked for several password reset links in a short time, "
                    "so we sent no new one. Use the link from the latest email, "
                    "or try again in %(minutes)s minutes."
                )
                % {"minutes": PASSWORD_RESETS.minutes},
            )
            return redirect(self.success_url)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def render_to_response(self, context, **response_kwargs):
        # A dead link answered 200 under "Set a new password"; the other dead
        # links (verification, email change) answer 400 and say so.
        if not self.validlink:
            response_kwargs.setdefault("status", 400)
        return super().render_to_response(context, **response_kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        forgive_account(LOGIN_FAILURES, form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(
        request.POST or None, request.FILES or None, instance=request.user
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile is saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@method_decorator(login_required, "dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is changed."))
        return response


@login_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def change_email(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.request_email_change(request.user, form.cleaned_data["new_email"])
        messages.info(
            request,
            _(
                "We sent a confirmation link to %(email)s. Your address changes "
                "when you follow it."
            )
            % {"email": form.cleaned_data["new_email"]},
        )
        return redirect("accounts:profile")
    return render(request, "accounts/change_email.html", {"form": form})


def confirm_email_change(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.confirm_email_change(token)
    except services.InvalidLink:
        # Not the sign-up's wording: no verification link to resend here.
        context = {"email_change": True}
        return render(request, "accounts/link_invalid.html", context, status=400)
    except services.EmailTaken:
        messages.error(request, _("That address now belongs to another account."))
        return redirect("accounts:profile")
    messages.success(
        request, _("Your email address is now %(email)s.") % {"email": user.email}
    )
    return redirect("accounts:profile")


def admin_login(request: HttpRequest) -> HttpResponse:
    """Wagtail's own /admin/login/ leads here: one door, with one set of rules."""
    next_url = request.GET.get("next") or reverse("wagtailadmin_home")
    return redirect_to_login(next_url, login_url=reverse("accounts:login"))


def admin_password_reset(request: HttpRequest) -> HttpResponse:
    return redirect("accounts:password_reset")
