import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartra_integrations.settings.development")

app = Celery("kartra_integrations")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
