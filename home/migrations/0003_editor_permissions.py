"""Editors, and only editors, write and publish the site's pages and images.

Wagtail's initial data gives its own "Editors" group add/edit on the tree root and
a "Moderators" group add/edit/publish there. Those grants are replaced: Editors get
add, change and publish on the site's HomePage (so the whole site tree, but not new
site roots), and nobody else keeps a page permission from the initial data.
"""

from django.db import migrations

EDITORS = "Editors"  # accounts.models.EDITORS_GROUP
PAGE_ACTIONS = ("add", "change", "publish")
IMAGE_ACTIONS = ("add", "change", "choose")


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Page = apps.get_model("wagtailcore", "Page")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    HomePage = apps.get_model("home", "HomePage")

    editors, _ = Group.objects.get_or_create(name=EDITORS)
    root = Page.objects.filter(depth=1).first()
    GroupPagePermission.objects.filter(page=root).delete()
    for home in HomePage.objects.all():
        for action in PAGE_ACTIONS:
            GroupPagePermission.objects.get_or_create(
                group=editors,
                page_id=home.pk,
                permission=Permission.objects.get(
                    content_type__app_label="wagtailcore", codename=f"{action}_page"
                ),
            )
    collection = Collection.objects.filter(depth=1).first()
    for action in IMAGE_ACTIONS:
        GroupCollectionPermission.objects.get_or_create(
            group=editors,
            collection=collection,
            permission=Permission.objects.get(
                content_type__app_label="wagtailimages", codename=f"{action}_image"
            ),
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupPagePermission.objects.filter(group__in=Group.objects.filter(name=EDITORS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0002_create_homepage"),
        ("accounts", "0002_role_groups"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
