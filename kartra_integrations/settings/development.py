"""Local development (`make run`): explicit, insecure defaults that only apply here."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="development-only-secret-key-not-for-production-use")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
HOOKS_ALLOW_PRIVATE_TARGETS = env.bool("HOOKS_ALLOW_PRIVATE_TARGETS", default=True)
PAYMENTS_MODE = env("PAYMENTS_MODE", default="test")
