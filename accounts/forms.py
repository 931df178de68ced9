from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.utils.translation import gettext_lazy as _

from . import tasks
from .models import User, normalize_email, refuse_domain_literal
from .services import queue_email, resend_verification
from .throttling import LOGIN_FAILURES, Attempt, release, reserve

MAX_AVATAR_BYTES = 2 * 1024 * 1024


class BootstrapMixin:
    """Gives every widget the Bootstrap 5 class its kind of input needs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class LoginForm(BootstrapMixin, auth_forms.AuthenticationForm):
    """Django's login form plus throttling, and a reason for a refused correct login.

    The reason (unverified, blocked) is only given to someone who typed the right
    password, so it reveals nothing about which addresses have accounts.
    """

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": _("The email or the password is wrong. Please try again."),
        "throttled_account": _(
            "Too many failed sign-in attempts for this account. To get back in "
            "now, reset your password: a new password lifts the lock. Or wait "
            "%(minutes)s minutes and try again."
        ),
        "throttled_ip": _(
            "Too many failed sign-in attempts from your network. Please wait "
            "%(minutes)s minutes and try again."
        ),
        "unverified": _(
            "Your email address is not verified yet. Follow the link in the email "
            "we sent you, or ask for a new link below."
        ),
        "blocked": _(
            "Your account is blocked. Please contact the site administrators."
        ),
    }

    unverified_email = ""
    # "account" or "ip" when a throttle refused the try: the page offers the way out.
    locked = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets the field's max_length after building it, so no validator
        # enforces it: a huge "email" reached the database (SQLite refused the LIKE).
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not email or not password:
            return self.cleaned_data
        attempt = Attempt.of(LOGIN_FAILURES, self.request, email)
        self.locked = reserve(attempt) or ""
        if self.locked:
            raise ValidationError(
                self.error_messages[f"throttled_{self.locked}"],
                code="throttled",
                params={"minutes": LOGIN_FAILURES.minutes},
            )
        self.user_cache = authenticate(self.request, username=email, password=password)
        if self.user_cache is None:
            self._explain_refusal(email, password)
            raise self.get_invalid_login_error()
        release(attempt)
        return self.cleaned_data

    def _explain_refusal(self, email: str, password: str) -> None:
        user = User.objects.by_email(email).first()
        if user is None:
            make_password(password)  # as costly as checking a real password
            return
        if not user.check_password(password):
            return
        if user.is_blocked:
            raise ValidationError(self.error_messages["blocked"], code="blocked")
        if user.email_verified_at is None:
            self.unverified_email = user.email
            raise ValidationError(self.error_messages["unverified"], code="unverified")


class SignupForm(BootstrapMixin, forms.Form):
    """Only the address: the password is chosen behind the emailed link."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_(
            "We will email you a link. Follow it to choose your password and "
            "finish signing up."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        validators=[refuse_domain_literal],
    )

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


class EmailForm(BootstrapMixin, forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ProfileForm(BootstrapMixin, forms.ModelForm):
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=32,
        validators=[
            RegexValidator(
                r"^\+?[0-9][0-9 ()\-]{4,30}$",
                _("Enter a phone number of digits, e.g. +7 912 345-67-89."),
            )
        ],
    )

    class Meta:
        model = User
        fields = [
            *("first_name", "last_name", "phone", "country", "language", "avatar"),
            "track_engagement",
        ]
        widgets = {"avatar": forms.FileInput(attrs={"accept": "image/*"})}

    def clean_avatar(self):
        # forms.ImageField already refuses files Pillow cannot open as an image.
        avatar = self.cleaned_data.get("avatar")
        if avatar and avatar.size > MAX_AVATAR_BYTES:
            raise ValidationError(
                _("The image is too large: at most %(mb)s MB."),
                code="too_large",
                params={"mb": MAX_AVATAR_BYTES // (1024 * 1024)},
            )
        return avatar


class EmailChangeForm(BootstrapMixin, forms.Form):
    new_email = forms.EmailField(
        label=_("New email"), max_length=254, validators=[refuse_domain_literal]
    )
    password = forms.CharField(
        label=_("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_new_email(self):
        new_email = normalize_email(self.cleaned_data["new_email"])
        if new_email == normalize_email(self.user.email):
            raise ValidationError(_("This is already your email address."))
        return new_email

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("The password is wrong."))
        return password


class PasswordChangeForm(BootstrapMixin, auth_forms.PasswordChangeForm):
    pass


class SetPasswordForm(BootstrapMixin, auth_forms.SetPasswordForm):
    pass


class PasswordResetForm(BootstrapMixin, auth_forms.PasswordResetForm):
    """Django's reset form, mailing in the user's language with an HTML part."""

    def get_users(self, email):
        # Django's own lookup is `iexact`: see UserManager.by_email.
        users = User.objects.by_email(email).filter(is_active=True, is_blocked=False)
        return (user for user in users if user.has_usable_password())

    def send_mail(self, subject_template, email_template, context, *args, **kwargs):
        # The consumer makes its own token: none travels through the queue.
        queue_email(tasks.send_password_reset_email, context["user"].pk)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # An account still waiting for its first password has nothing to reset:
        # its sign-up link, where the password is chosen, is sent instead.
        resend_verification(self.cleaned_data["email"])
