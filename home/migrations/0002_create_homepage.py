"""Make a HomePage the root of the default site, replacing Wagtail's welcome page.

Unlike the project template's migration this does not assume a fresh tree: it
removes the welcome page only if it is still the untouched default, places the new
page at the next free tree position, and repoints whichever sites pointed at the
welcome page (or creates the default site if there is none).
"""

import uuid

from django.db import migrations
from django.utils import timezone

from home.migrations._tree import next_child_path

def create_homepage(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    HomePage = apps.get_model("home", "HomePage")
    if HomePage.objects.exists():
        return
    root = Page.objects.filter(depth=1).order_by("path").first()
    page_type = ContentType.objects.get_for_model(Page)
    welcome = Page.objects.filter(
        content_type=page_type, depth=2, slug="home", numchild=0
    ).first()
    welcome_id = welcome.pk if welcome else None
    slug_taken = Page.objects.filter(depth=2, slug="home").exclude(pk=welcome_id)
    now = timezone.now()
    homepage = HomePage.objects.create(
        title="Vestnik",
        draft_title="Vestnik",
        slug="vestnik" if slug_taken.exists() else "home",
        content_type=ContentType.objects.get_for_model(HomePage),
        path=next_child_path(Page, root),
        depth=2,
        numchild=0,
        url_path="/vestnik/" if slug_taken.exists() else "/home/",
        locale_id=root.locale_id,
        translation_key=uuid.uuid4(),
        live=True,
        first_published_at=now,
        last_published_at=now,
    )
    sites = Site.objects.filter(root_page_id=welcome_id) if welcome_id else None
    if sites is not None and sites.exists():
        sites.update(root_page=homepage)
    elif not Site.objects.exists():
        Site.objects.create(hostname="localhost", root_page=homepage, is_default_site=True)
    if welcome is not None:
        welcome.delete()
    root.numchild = Page.objects.filter(
        depth=2, path__startswith=root.path
    ).count()
    root.save(update_fields=["numchild"])


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        # Reversing leaves the page: deleting a root could take a whole site with it.
        migrations.RunPython(create_homepage, migrations.RunPython.noop),
    ]
