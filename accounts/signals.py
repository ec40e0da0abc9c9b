"""Saves and deletes that change what an account's API credentials may do replace its credential epoch
(accounts.services.credential_epoch_bump), whoever makes them: a service, the admin, a shell. Queryset
updates send no signal: the services that use them bump the epoch themselves."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Account, ApiCredential, User
from .services import credential_epoch_bump

# Owner fields the API never reads: a login (last_login) must not empty every process's cache.
_OWNER_FIELDS_OUTSIDE_THE_API = frozenset({"last_login", "password"})


@receiver(post_save, sender=Account, dispatch_uid="accounts.signals.account_saved")
@receiver(post_delete, sender=Account, dispatch_uid="accounts.signals.account_deleted")
def _account_changed(sender, instance: Account, created: bool = False, **kwargs) -> None:
    if not created:
        credential_epoch_bump(account_id=instance.pk)


@receiver(post_save, sender=ApiCredential, dispatch_uid="accounts.signals.credential_saved")
@receiver(post_delete, sender=ApiCredential, dispatch_uid="accounts.signals.credential_deleted")
def _credential_changed(sender, instance: ApiCredential, created: bool = False, **kwargs) -> None:
    if not created:
        credential_epoch_bump(account_id=instance.account_id)


@receiver(post_save, sender=User, dispatch_uid="accounts.signals.owner_saved")
def _owner_changed(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and set(update_fields) <= _OWNER_FIELDS_OUTSIDE_THE_API):
        return
    account_id = Account.objects.filter(owner=instance).values_list("pk", flat=True).first()
    if account_id is not None:
        credential_epoch_bump(account_id=account_id)
