from django.urls import path

from . import views

app_name = "zaphooks"

urlpatterns = [
    path("settings/hooks/", views.hooks, name="hooks"),
    path("settings/hooks/secret/rotate/", views.secret_rotate, name="secret_rotate"),
    path("settings/hooks/<int:subscription_id>/", views.delivery_log, name="log"),
    path("settings/hooks/<int:subscription_id>/edit/", views.endpoint_edit, name="endpoint_edit"),
    path("settings/hooks/<int:subscription_id>/state/", views.subscription_state, name="state"),
    path("settings/hooks/<int:subscription_id>/replay/", views.replay, name="replay"),
    path(
        "settings/hooks/<int:subscription_id>/deliveries/<int:delivery_id>/payload/",
        views.delivery_payload,
        name="payload",
    ),
    path("moderation/hooks/", views.health, name="health"),
]
