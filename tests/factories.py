"""Small builders for test data. Each takes only what a test cares about."""

import itertools
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import EDITORS_GROUP, MAILING_USERS_GROUP, MANAGERS_GROUP, User
from mailing.audiences import audience, own_list_name, target_own_list
from mailing.models import Client, Mailing, MailingList, Message, Subscription

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-9"  # noqa: S105 - test password

ROLE_GROUPS = {
    "mailing_user": MAILING_USERS_GROUP,
    "manager": MANAGERS_GROUP,
    "editor": EDITORS_GROUP,
}


def make_user(
    role: str = "mailing_user", *, email: str | None = None, **fields
) -> User:
    """A verified, active user in the group of `role` ("superuser" for a superuser)."""
    email = email or f"user{next(_seq)}@example.com"
    fields.setdefault("email_verified_at", timezone.now())
    if role == "superuser":
        return User.objects.create_superuser(email=email, password=PASSWORD, **fields)
    user = User.objects.create_user(email=email, password=PASSWORD, **fields)
    if role in ROLE_GROUPS:
        user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
    return user


def english(user: User) -> User:
    """The admin in English for `user`, whatever language an earlier test left."""
    from wagtail.users.models import UserProfile

    UserProfile.objects.update_or_create(
        user=user, defaults={"preferred_language": "en"}
    )
    return user


def make_client(owner: User, **fields) -> Client:
    n = next(_seq)
    fields.setdefault("email", f"client{n}@example.org")
    fields.setdefault("full_name", f"Client {n}")
    return Client.objects.create(owner=owner, **fields)


def make_message(owner: User, **fields) -> Message:
    fields.setdefault("subject", "Hello, {{ full_name }}")
    fields.setdefault("body", "Dear {{ full_name }}, news for {{ email }}.")
    return Message.objects.create(owner=owner, **fields)


def make_mailing(owner: User, *, clients=(), message: Message | None = None, **fields):
    fields.setdefault("name", f"Mailing {next(_seq)}")
    fields.setdefault("first_send_at", timezone.now() + timedelta(hours=1))
    fields.setdefault("next_send_at", fields["first_send_at"])
    mailing = Mailing.objects.create(
        owner=owner, message=message or make_message(owner), **fields
    )
    set_recipients(mailing, clients)
    return mailing


def make_sent_attempts(recipients: int) -> list[int]:
    """The attempt ids of a run that sent to `recipients` new clients of a new
    owner, in order: what ESP events are about."""
    from mailing.models import Attempt, MailingRun
    from mailing.services import open_run

    owner = make_user()
    clients = [make_client(owner) for _ in range(recipients)]
    mailing = make_mailing(owner, clients=clients)
    run = open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
    run.attempts.update(status=Attempt.Status.SUCCESS)
    return list(run.attempts.order_by("pk").values_list("pk", flat=True))


def make_list(owner: User, *, clients=(), status=None, **fields) -> MailingList:
    """A list of `owner` with `clients` on it (subscribed unless `status`)."""
    fields.setdefault("name", f"List {next(_seq)}")
    mailing_list = MailingList.objects.create(owner=owner, **fields)
    Subscription.objects.bulk_create(
        Subscription(
            client=client,
            mailing_list=mailing_list,
            status=status or Subscription.Status.SUBSCRIBED,
        )
        for client in clients
    )
    return mailing_list


def set_recipients(mailing: Mailing, clients) -> None:
    """The mailing targets a list of its own holding exactly `clients`, subscribed
    (what `mailing.clients.set(...)` was before lists)."""
    own = MailingList.objects.filter(
        mailings=mailing, name=own_list_name(mailing.name)
    ).first()
    if own is None:
        own = target_own_list(mailing, clients)
    else:
        own.subscriptions.all().delete()
        Subscription.objects.bulk_create(
            Subscription(client=client, mailing_list=own) for client in clients
        )


def remove_recipients(mailing: Mailing, *clients) -> None:
    """Takes clients (or ids) out of the mailing's audience: off all its lists."""
    ids = [getattr(client, "pk", client) for client in clients]
    Subscription.objects.filter(
        mailing_list__mailings=mailing, client_id__in=ids
    ).delete()


def recipients_of(mailing: Mailing):
    """The mailing's audience (subscribed members of its lists), by email."""
    return audience(mailing).order_by("email")


# --- Site and blog (issue 5) ------------------------------------------------------


def make_image(title: str = "Picture", size=(64, 36), colour=(200, 80, 40)):
    """A small JPEG drawn by Pillow, stored as a Wagtail image."""
    import io

    from django.core.files.images import ImageFile
    from PIL import Image as PILImage
    from wagtail.images import get_image_model

    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "JPEG")
    image = get_image_model()(title=title)
    image.file = ImageFile(buffer, name=f"test-{next(_seq)}.jpg")
    image.save()
    return image


def home_page(language: str = "ru"):
    """The site's home page in `language` (the English one is its translation)."""
    from home.models import HomePage

    return HomePage.objects.get(locale__language_code=language)


def translate(
    page, language: str = "en", *, publish=True, copy_parents=False, **fields
):
    """`page`'s translation into `language` (Wagtail i18n), with `fields` set.

    Its parent must have a translation already (the home pages always do), unless
    copy_parents: then the missing ones are copied (as drafts).
    """
    from wagtail.models import Locale

    locale = Locale.objects.get(language_code=language)
    translation = page.get_translation_or_none(locale)
    if translation is None:
        translation = page.copy_for_translation(locale, copy_parents=copy_parents)
    translation = translation.specific
    for name, value in fields.items():
        setattr(translation, name, value)
    translation.save()
    revision = translation.save_revision()
    if publish:
        revision.publish()
    return translation


def make_blog_index(**fields):
    from blog.models import BlogIndexPage

    fields.setdefault("title", "Blog")
    fields.setdefault("slug", "blog")
    fields.setdefault("show_in_menus", True)
    index = home_page().add_child(instance=BlogIndexPage(**fields))
    index.save_revision().publish()
    return index


def make_post(index, *, publish: bool = True, tags=(), **fields):
    """A blog post under `index`; published unless publish=False (a draft)."""
    from blog.models import BlogPage

    n = next(_seq)
    fields.setdefault("title", f"Post {n}")
    fields.setdefault("slug", f"post-{n}")
    fields.setdefault("author", "Test Author")
    fields.setdefault("intro", f"Intro of post {n}")
    fields.setdefault("live", publish)
    post = index.add_child(instance=BlogPage(**fields))
    if tags:
        post.tags.add(*tags)
    revision = post.save_revision()
    if publish:
        revision.publish()
    return post


# --- Email composition (issue 14) -------------------------------------------------


def make_layout(owner, *, language: str = "ru", blocks=(), **fields):
    """An email layout of `owner` (None: shared) from (type, value) pairs."""
    from mailing.models import EmailLayout

    fields.setdefault("name", f"Layout {next(_seq)}")
    return EmailLayout.objects.create(
        owner=owner, language=language, body=list(blocks), **fields
    )


def make_sender(owner, *, confirmed: bool = True, **fields):
    from mailing.models import SenderIdentity

    n = next(_seq)
    fields.setdefault("from_name", f"Sender {n}")
    fields.setdefault("from_email", f"sender{n}@example.net")
    fields.setdefault("postal_address", f"{n} Example Street, Springfield")
    if confirmed:
        fields.setdefault("confirmed_at", timezone.now())
    return SenderIdentity.objects.create(owner=owner, **fields)


def make_letter(owner, language: str = "ru", *, extra_html: str = "", **fields):
    """A realistic newsletter message in `language` (no plain text: it is made)."""
    from mailing.samples import sample_letter

    subject, html_body = sample_letter(language)
    fields.setdefault("subject", subject)
    fields.setdefault("body", "")
    return make_message(owner, html_body=html_body + extra_html, **fields)


def import_file(owner, path, **options):
    """Import a file as the admin's confirm does (stashed, a job, its task's body
    run here to the end); returns the finished ImportJob."""
    import secrets
    import shutil

    from mailing.import_jobs import run_import
    from mailing.imports import stash_path
    from mailing.models import ImportJob

    token = secrets.token_hex(16)
    stash_path(token).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, stash_path(token))
    job = ImportJob.objects.create(
        owner=owner, file_token=token, file_name=path.name, **options
    )
    return run_import(job.pk)


def rejected_lines(job) -> dict[int, str]:
    return dict(job.rejections.values_list("line", "reason"))
