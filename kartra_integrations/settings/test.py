"""The test suite: development defaults, fast password hashing, in-memory email."""

from .development import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# No Celery message or Redis round-trip after every unit test's lead-event commit; the live hook
# tests (tests/zaphooks, fixture `live`) turn it back on.
HOOKS_WAKE_ON_COMMIT = False
