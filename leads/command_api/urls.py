from django.urls import path

from .views import command_api

# Included at the site root: the platform's clients call POST /api, some with a trailing slash.
urlpatterns = [
    path("api", command_api, name="command_api"),
    path("api/", command_api, name="command_api_slash"),
]
