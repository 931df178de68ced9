"""Existing accounts: the admin's preferred language becomes the account's language
(accounts.language keeps them equal from now on)."""

from django.db import migrations


def copy_language(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    UserProfile = apps.get_model("wagtailusers", "UserProfile")
    for user_id, language in User.objects.values_list("id", "language").iterator():
        UserProfile.objects.update_or_create(
            user_id=user_id, defaults={"preferred_language": language}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_engagement_tracking"),
        ("wagtailusers", "0015_userprofile_keyboard_shortcuts"),
    ]

    operations = [migrations.RunPython(copy_language, migrations.RunPython.noop)]
