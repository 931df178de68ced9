import io

from django.urls import reverse
from wagtail.models import PageLogEntry

from accounts import demo as accounts_demo
from accounts.models import User
from blog import demo as blog_demo


def test_demo_pages_are_published_by_the_demo_editor(client, db):
    """Published without a user, Wagtail's aging report said "Last published by"
    nobody for every demo page."""
    accounts_demo.seed(io.StringIO())
    blog_demo.seed(io.StringIO())
    editor = User.objects.get(email=accounts_demo.EDITOR_EMAIL)

    publishes = PageLogEntry.objects.filter(action="wagtail.publish")
    assert publishes.count() >= 12  # two homes, two indexes, eight posts
    assert set(publishes.values_list("user", flat=True)) == {editor.pk}

    client.force_login(User.objects.get(email="admin@vestnik.example"))
    report = client.get(reverse("wagtailadmin_reports:aging_pages") + "?page=1")
    assert report.status_code == 200
    text = report.content.decode()
    assert text.count(editor.email) >= 12  # the report names users by username
