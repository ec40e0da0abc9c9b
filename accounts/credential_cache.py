"""Verified API credentials kept in process, so that an API request reads no credential from PostgreSQL.

Every /api/v1 request runs one Redis script already (the account's rate counter, accounts.throttling);
the same script returns the account's **credential epoch**, a random token that every change to what the
account's credentials may do replaces, after its transaction commits (accounts.services.credential_epoch_bump:
a regenerated or revoked credential, Zapier access revoked or approved, the account or its owner changed
or deleted). A credential verified under the epoch Redis returns now is still what PostgreSQL holds, so
it is served from here; under any other epoch it is read and checked again.

- The key is (API key, keyed digest of the password): a wrong password never finds an entry.
- The epoch an entry is served under was read *before* the PostgreSQL read that filled it: a change that
  commits between the two replaces the epoch afterwards, so the entry is never served stale. The first
  request of a key in a process does not know the account yet, so it reads PostgreSQL first and the
  script after: that entry records the account but is not servable; the next request fills it.
- Redis unavailable (or no REDIS_URL): PostgreSQL for every request, and the process forgets every entry
  (an epoch replaced while this process could not see it must not be trusted when Redis is back).
  Entries also expire after VERIFIED_CREDENTIAL_MAX_AGE, a bound for a replacement lost in an outage.
"""

import hmac
import time
from dataclasses import dataclass

from .crypto import hash_api_password
from .models import ApiCredential
from .selectors import api_credential_get_by_key
from .services import api_credential_mark_used
from .throttling import Counted, account_request_count

VERIFIED_CREDENTIALS_MAX = 10_000  # a process serves a few accounts' Zapier connections at a time
VERIFIED_CREDENTIAL_MAX_AGE = 60.0  # seconds


@dataclass
class _Verified:
    credential: ApiCredential  # with its account and owner; shared by the process's requests: read-only
    epoch: bytes | None  # the epoch read before the credential was; None: read after (not servable)
    verified_at: float


class VerifiedCredentials:
    """A bounded map (oldest entry out first) from (API key, password digest) to a verified credential."""

    def __init__(self, max_entries: int = VERIFIED_CREDENTIALS_MAX):
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], _Verified] = {}

    def get(self, key: tuple[str, str]) -> _Verified | None:
        return self._entries.get(key)

    def put(self, key: tuple[str, str], entry: _Verified) -> None:
        self._entries.pop(key, None)
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)), None)
        self._entries[key] = entry

    def discard(self, key: tuple[str, str]) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


verified_credentials = VerifiedCredentials()


def api_credential_authenticate(
    *, api_key: str, password: str, cache: VerifiedCredentials = verified_credentials
) -> tuple[ApiCredential | None, Counted | None]:
    """The credential this API key and password open (None: they open none), and the request counted in
    its account's rate window with the same script that read the epoch (None when refused unseen)."""
    key = (api_key, hash_api_password(password))
    known = cache.get(key)
    counted = None
    if known is not None:
        # An API key never moves to another account: the entry names the account to count and ask.
        counted = account_request_count(known.credential.account_id)
        epoch = counted.credential_epoch
        if epoch is None:
            cache.clear()
        elif epoch == known.epoch and time.monotonic() - known.verified_at < VERIFIED_CREDENTIAL_MAX_AGE:
            api_credential_mark_used(credential=known.credential)
            return known.credential, counted
    verified_at = time.monotonic()
    credential = api_credential_get_by_key(api_key=api_key)
    if credential is None or not credential.password_hash or not hmac.compare_digest(key[1], credential.password_hash):
        cache.discard(key)
        return None, counted
    if counted is None:
        counted = account_request_count(credential.account_id)
        epoch = None  # read after the credential: only tells that the account is known now
    if counted.credential_epoch is not None:
        cache.put(key, _Verified(credential, epoch, verified_at))
    api_credential_mark_used(credential=credential)
    return credential, counted
