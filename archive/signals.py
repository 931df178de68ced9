"""An owner who takes a mailing out of the archive (or deletes it) sees it gone at
once: cached archive pages are dropped, not left to expire."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from home import generations
from home.signals import all_languages
from mailing.models import Mailing


@receiver(pre_save, sender=Mailing)
def remember_archived(sender, instance, **kwargs):
    instance._was_archived = bool(
        instance.pk
        and Mailing.objects.filter(pk=instance.pk, public_archive=True).exists()
    )


@receiver(post_save, sender=Mailing)
@receiver(post_delete, sender=Mailing)
def drop_cached_archive(sender, instance, **kwargs):
    if instance.public_archive or getattr(instance, "_was_archived", False):
        # The archive pages list mailings as pages list posts: their lists go (home
        # and blog index with them), the posts stay.
        names = [generations.listing_generation(code) for code in all_languages()]
        generations.bump_now_and_on_commit(names)
