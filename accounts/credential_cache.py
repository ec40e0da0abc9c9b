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

from kartra_integrations.redis_client import redis_client

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


class CredentialLookup:
    """One request's API key and password against the process's verified credentials.

    `account_id` names the account whose epoch the request's rate script should read (None: not
    verified here yet); `served(epoch)` is the credential when that epoch allows it; otherwise the
    caller reads PostgreSQL, checks the password against `digest`, and `remember`s what it found."""

    def __init__(self, api_key: str, password: str, cache: VerifiedCredentials = verified_credentials):
        self.key = (api_key, hash_api_password(password))
        self.cache = cache
        self.known = cache.get(self.key)
        self.verified_at = time.monotonic()  # before any PostgreSQL read of this request

    @property
    def digest(self) -> str:
        return self.key[1]

    @property
    def account_id(self) -> int | None:
        # An API key never moves to another account: the entry names the account to count and ask.
        return self.known.credential.account_id if self.known is not None else None

    def password_matches(self, credential: ApiCredential) -> bool:
        return bool(credential.password_hash) and hmac.compare_digest(self.digest, credential.password_hash)

    def served(self, counted: Counted) -> ApiCredential | None:
        """The verified credential if `counted` (the script run with `account_id`'s epoch) allows it."""
        if self.known is None:
            return None
        epoch = counted.credential_epoch
        if epoch is None:  # Redis unavailable: nothing cached is trusted again
            self.cache.clear()
            return None
        if epoch == self.known.epoch and self.verified_at - self.known.verified_at < VERIFIED_CREDENTIAL_MAX_AGE:
            return self.known.credential
        return None

    def remember(self, credential: ApiCredential, counted: Counted | None) -> None:
        """Keep a credential just read from PostgreSQL whose password matched. Servable under the epoch
        `counted` read before that read, if it did (`account_id` known); otherwise recorded unservable,
        for its account to be known to the next request."""
        if redis_client() is None:  # no REDIS_URL: no epoch, no cache
            return
        epoch = counted.credential_epoch if self.known is not None and counted is not None else None
        self.cache.put(self.key, _Verified(credential, epoch, self.verified_at))

    def forget(self) -> None:
        self.cache.discard(self.key)


def api_credential_authenticate(
    *, api_key: str, password: str, cache: VerifiedCredentials = verified_credentials
) -> tuple[ApiCredential | None, Counted | None]:
    """The credential this API key and password open (None: they open none), and the request counted in
    its account's rate window by the script that read the epoch (None when refused unseen)."""
    lookup = CredentialLookup(api_key, password, cache)
    counted = account_request_count(lookup.account_id) if lookup.account_id is not None else None
    credential = lookup.served(counted) if counted is not None else None
    if credential is None:
        credential = api_credential_get_by_key(api_key=api_key)
        if credential is None or not lookup.password_matches(credential):
            lookup.forget()
            return None, counted
        lookup.remember(credential, counted)
        counted = counted or account_request_count(credential.account_id)
    api_credential_mark_used(credential=credential)
    return credential, counted
