"""Every account gets a profile: signup sets the chosen display name; other ways in (createadmin, the
admin) get a neutral one the person can change."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from herzstadt.accounts.models import Profile


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def ensure_profile(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        Profile.objects.get_or_create(
            user=instance, defaults={"display_name": f"person-{instance.pk}"}
        )
