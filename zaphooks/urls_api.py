from django.urls import path

from . import apis

urlpatterns = [
    path("hooks", apis.HooksApi.as_view(), name="api-hooks"),
    path("hooks/<int:hook_id>", apis.HookDetailApi.as_view(), name="api-hook"),
    path("hooks/samples/<str:event>", apis.HookSamplesApi.as_view(), name="api-hook-samples"),
]
