"""One language per person: the account's `User.language` and Wagtail's
`UserProfile.preferred_language` (which the admin reads) are kept equal.

People set their language on the public profile page, the admin's account page,
or by signing up on /en/; whichever they use, emails, the public pages and the
admin then speak it. Each side is written with a queryset update, so neither
receiver sets off the other.
"""

from wagtail.users.models import UserProfile


def on_user_saved(sender, instance, created, update_fields=None, **kwargs):
    """Copy the user's language to the admin's preference."""
    if update_fields is not None and "language" not in update_fields:
        return  # e.g. last_login on each sign-in: nothing to copy
    # By id, not through `instance`: the saved object keeps no profile in its cache.
    language = instance.language
    if not UserProfile.objects.filter(user_id=instance.pk).update(
        preferred_language=language
    ):
        UserProfile.objects.create(user_id=instance.pk, preferred_language=language)


def on_profile_saved(sender, instance, **kwargs):
    """Copy a language chosen on the admin's account page to the user."""
    chosen = instance.preferred_language
    if chosen and chosen != instance.user.language:
        type(instance.user).objects.filter(pk=instance.user_id).update(language=chosen)
        instance.user.language = chosen
