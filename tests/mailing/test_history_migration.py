"""The data migration moving owned objects' history out of Wagtail's shared table."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from mailing.list_count_triggers import ensure_sqlite_triggers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE = [("mailing", "0007_default_layouts_and_permissions")]
AFTER = [("mailing", "0008_owned_history")]


def migrate(targets):
    """Moves mailing to `targets`; the models of every app in that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    others = [
        node
        for node in executor.loader.graph.leaf_nodes()
        if node[0] not in {"mailing"}
    ]
    return executor.loader.project_state([*targets, *others]).apps


@pytest.fixture(autouse=True)
def latest_schema_afterwards():
    """Later tests need every migration, not the state this test stopped at, and
    the SQLite triggers that `migrate` puts back after the tables it rebuilt (its
    post_migrate; the executor alone sends none): without them every later test of
    that worker counted lists' members as 0."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ensure_sqlite_triggers()


def test_entries_of_owned_objects_move_with_their_owner_and_others_stay():
    apps = migrate(BEFORE)
    User = apps.get_model("accounts", "User")
    Client = apps.get_model("mailing", "Client")
    ContentType = apps.get_model("contenttypes", "ContentType")
    ModelLogEntry = apps.get_model("wagtailcore", "ModelLogEntry")
    owner = User.objects.create(email="owner@example.com")
    client = Client.objects.create(owner=owner, email="c@example.org", full_name="C")

    def entry(model, object_id, label):
        content_type, _ = ContentType.objects.get_or_create(
            app_label=model._meta.app_label, model=model._meta.model_name
        )
        return ModelLogEntry.objects.create(
            content_type=content_type,
            object_id=str(object_id),
            label=label,
            action="wagtail.create",
            timestamp=timezone.now(),
            user_id=owner.pk,
        )

    entry(Client, client.pk, "kept client")
    entry(Client, 999_999, "deleted client")
    entry(User, owner.pk, "a user")

    apps = migrate(AFTER)
    OwnedLogEntry = apps.get_model("mailing", "OwnedLogEntry")
    ModelLogEntry = apps.get_model("wagtailcore", "ModelLogEntry")

    moved = dict(OwnedLogEntry.objects.values_list("label", "owner_id"))
    assert moved == {"kept client": owner.pk, "deleted client": None}
    assert list(ModelLogEntry.objects.values_list("label", flat=True)) == ["a user"]

    apps = migrate(BEFORE)
    ModelLogEntry = apps.get_model("wagtailcore", "ModelLogEntry")
    assert ModelLogEntry.objects.count() == 3
