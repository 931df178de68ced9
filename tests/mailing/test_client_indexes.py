"""An owner's addresses live in one index: it keeps them unique whatever their
case and answers the lookups by address and by its start. Each index on
mailing_client is written by every client an import inserts, at a random place."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from mailing.models import Client
from tests.catalogue import indexes_of, plan
from tests.factories import make_client, make_user

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's catalogue and plans"
)


@postgres_only
def test_one_index_holds_an_owners_addresses():
    led_by_owner_address = [
        name
        for name, definition in indexes_of("mailing_client").items()
        if "(owner_id, lower((email)::text)" in definition
    ]

    assert led_by_owner_address == ["client_owner_address"]
    assert "UNIQUE" in indexes_of("mailing_client")["client_owner_address"]


@postgres_only
@pytest.mark.parametrize(
    "condition, value",
    [("LIKE %s", "reader432%"), ("= %s", "reader432@example.org")],
    ids=["address start (attempts search)", "address (import, suppression)"],
)
def test_it_answers_an_owners_lookups(condition, value):
    owner = make_user()
    Client.objects.bulk_create(
        Client(owner=owner, email=f"reader{n}@example.org", full_name="R")
        for n in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE mailing_client")

    found = plan(
        "SELECT id FROM mailing_client "  # noqa: S608 - a fixed condition
        f"WHERE owner_id = %s AND lower(email) {condition}",
        [owner.pk, value],
    )

    assert "client_owner_address" in found, found


def test_an_owners_addresses_stay_unique_whatever_their_case():
    owner, other = make_user(), make_user()
    make_client(owner, email="Reader@example.org")
    make_client(other, email="reader@example.org")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_client(owner, email="READER@example.org")
    duplicate = Client(owner=owner, email="reader@EXAMPLE.org", full_name="R")
    with pytest.raises(ValidationError):
        duplicate.validate_constraints()
