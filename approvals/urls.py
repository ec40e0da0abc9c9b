from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("integrations/", views.integrations, name="integrations"),
    path("moderation/queue/", views.queue, name="queue"),
]
