import unicodedata

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

MAILING_USERS_GROUP = "Mailing users"
MANAGERS_GROUP = "Managers"
EDITORS_GROUP = "Editors"


def normalize_email(email: str) -> str:
    """The one spelling of an address used for storage, lookups and throttle keys.

    NFKC as Django's login form applies to what is typed (fullwidth letters, the
    long s), then lower case.
    """
    return unicodedata.normalize("NFKC", email or "").strip().lower()


def refuse_domain_literal(email: str) -> None:
    """Django's EmailValidator takes a domain literal (user@[192.0.2.1]): mail to
    it would go to whatever host the address names, our own network's included.
    A real mailbox has a domain name. The one rule for every address the service
    mails: accounts' and clients' (mailing.addresses)."""
    if email.rstrip().endswith("]"):
        raise ValidationError(
            _("Enter an address with a domain name, not an IP address."),
            code="domain_literal",
        )


class UserManager(BaseUserManager):
    use_in_migrations = True

    def by_email(self, email):
        """The account of an address: equal to its one spelling, never `iexact`.

        Addresses are stored normalised, so equality finds every case variant;
        `iexact` is UPPER() = UPPER() on PostgreSQL, which also matched a dotless ı
        to i and so signed `user@vestnık.example` in to `user@vestnik.example`.
        """
        return self.filter(email=normalize_email(email))

    def get_by_natural_key(self, email):
        return self.by_email(email).get()

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("The email must be set")
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in with their email address.

    first_name / last_name stay (rather than one full_name) because Wagtail's user
    admin forms expect them.
    """

    username = None
    email = models.EmailField(_("email address"), max_length=254, unique=True)
    is_blocked = models.BooleanField(
        _("blocked"),
        default=False,
        help_text=_("A blocked user cannot sign in and their mailings are not sent."),
    )
    email_verified_at = models.DateTimeField(
        _("email verified at"), null=True, blank=True
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    # Account emails go out in the language the person signed up in.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    # The owner's switch for all their mailings; each mailing has its own too.
    track_engagement = models.BooleanField(
        _("track opens and clicks"),
        default=True,
        help_text=_("Adds an open pixel and click redirects to your emails."),
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                Lower("email"), name="accounts_user_email_ci_unique"
            ),
        ]

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)


class ApiToken(models.Model):
    """A per-user key to the REST API. Only the SHA-256 of the secret is stored:
    the token is shown once, when it is made, and looked up by its prefix."""

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        READ_WRITE = "read_write", _("Read and write")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="vestnik_api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(
        _("scope"), max_length=16, choices=Scope.choices, default=Scope.READ
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    digest = models.CharField(_("SHA-256 of the secret"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def may_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE


class IdempotentRequest(models.Model):
    """A POST to the API made with an Idempotency-Key: its first answer, replayed
    to a retry instead of doing the work twice. `status` is null while in flight."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    key = models.CharField(_("key"), max_length=255)
    # method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    body = models.JSONField(
        _("response body"), null=True, blank=True, encoder=DjangoJSONEncoder
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="accounts_idempotent_request_once"
            ),
        ]
