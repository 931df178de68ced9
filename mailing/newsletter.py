""" "Send as newsletter": one blog post, from its admin page, to the editor's own
recipients, now or at a time. It becomes an ordinary message and `once` mailing,
so it goes through the one sending path (and shows in the editor's reports)."""

from datetime import datetime
from html import escape

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import services
from .digest import post_html
from .models import Mailing, MailingList, Message

PERMISSION = "mailing.send_newsletter"


def may_send_newsletter(user, page) -> bool:
    """Editors with the permission, for a live post whose page they may edit."""
    return bool(
        user.is_authenticated
        and user.has_perm(PERMISSION)
        and page.live
        and page.permissions_for_user(user).can_edit()
    )


def post_as_rich_text(post) -> str:
    """The post as a message body: its card (title, picture, summary, link), then
    its text, pictures and quotes in Wagtail's stored rich-text format."""
    parts = [post_html(post)]
    for block in post.body:
        if block.block_type == "paragraph":
            parts.append(block.value.source)
        elif block.block_type == "image" and block.value:
            alt = escape(block.value.contextual_alt_text or "", quote=True)
            parts.append(
                f'<embed embedtype="image" id="{block.value.pk}" format="fullwidth" '
                f'alt="{alt}"/>'
            )
        elif block.block_type == "quote":
            parts.append(f"<blockquote>{escape(str(block.value))}</blockquote>")
        elif block.block_type == "code":
            parts.append(f"<pre>{escape(block.value['code'])}</pre>")
    return "".join(parts)


def send_post_as_newsletter(
    post,
    user,
    lists,
    subject: str,
    send_at: datetime | None = None,
    all_clients: bool = False,
) -> Mailing:
    """A message and a `once` mailing of the post to `user`'s own lists (or all
    their clients); sent now (send_at empty or past) or scheduled."""
    if not may_send_newsletter(user, post):
        raise PermissionDenied
    lists = list(MailingList.objects.filter(owner=user, pk__in=[x.pk for x in lists]))
    if not (lists or all_clients):
        raise services.SendError(_("Choose at least one list, or all your clients."))
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            owner=user, subject=subject, body="", html_body=post_as_rich_text(post)
        )
        mailing = Mailing.objects.create(
            owner=user,
            name=_("Newsletter: %(title)s") % {"title": post.title},
            message=message,
            first_send_at=max(send_at or now, now),
            all_clients=all_clients,
        )
        mailing.lists.set(lists)
        if send_at is None or send_at <= now:
            services.send_now(mailing, user)
    return mailing
