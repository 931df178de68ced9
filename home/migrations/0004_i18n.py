"""The English locale and the English home page, a translation of the Russian one.

With WAGTAIL_I18N_ENABLED each language has its own page tree; the Site's root
page is the Russian home, and Wagtail serves /en/ from that page's English
translation (same translation_key, locale "en"), a sibling at the top of the tree.
Editors get on it what they have on the Russian home (0003), and may submit
translations (wagtail.contrib.simple_translation).
"""

from django.db import migrations
from django.utils import timezone

from home.migrations._tree import next_child_path

EDITORS = "Editors"  # accounts.models.EDITORS_GROUP
PAGE_ACTIONS = ("add", "change", "publish")


def add_english(apps, schema_editor):
    Locale = apps.get_model("wagtailcore", "Locale")
    HomePage = apps.get_model("home", "HomePage")
    Page = apps.get_model("wagtailcore", "Page")
    english, _ = Locale.objects.get_or_create(language_code="en")
    russian_home = HomePage.objects.exclude(locale=english).order_by("path").first()
    if russian_home is None:
        return
    home = HomePage.objects.filter(
        translation_key=russian_home.translation_key, locale=english
    ).first()
    if home is None:
        home = _english_home(apps, russian_home, english)
    _grant_editors(apps, home)
    root = Page.objects.get(depth=1)
    root.numchild = Page.objects.filter(depth=2).count()
    root.save(update_fields=["numchild"])


def _english_home(apps, russian_home, english):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    HomePage = apps.get_model("home", "HomePage")
    root = Page.objects.get(depth=1)
    slug = "home-en"
    now = timezone.now()
    return HomePage.objects.create(
        title="Vestnik",
        draft_title="Vestnik",
        slug=slug,
        content_type=ContentType.objects.get_for_model(HomePage),
        path=next_child_path(Page, root),
        depth=2,
        numchild=0,
        url_path=f"/{slug}/",
        locale=english,
        translation_key=russian_home.translation_key,
        live=True,
        first_published_at=now,
        last_published_at=now,
    )


def _grant_editors(apps, home):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    for action in PAGE_ACTIONS:
        GroupPagePermission.objects.get_or_create(
            group=editors,
            page_id=home.pk,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=f"{action}_page"
            ),
        )
    # Permissions are made after the migrations (post_migrate): made here, as then.
    ContentType = apps.get_model("contenttypes", "ContentType")
    submit, _ = Permission.objects.get_or_create(
        content_type=ContentType.objects.get_or_create(
            app_label="simple_translation", model="simpletranslation"
        )[0],
        codename="submit_translation",
        defaults={"name": "Can submit translations"},
    )
    editors.permissions.add(submit)


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0003_editor_permissions"),
        ("wagtailcore", "0098_apitoken"),
        ("simple_translation", "0001_initial"),
    ]

    operations = [
        # Reversing leaves the page and the locale: removing a tree takes its content.
        migrations.RunPython(add_english, migrations.RunPython.noop),
    ]
