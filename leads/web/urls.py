"""The owner's pages under /leads/ and /assets/ (included by leads/urls.py)."""

from django.urls import path

from leads.web import views

app_name = "leads"

urlpatterns = [
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/settings/gdpr/", views.gdpr_setting, name="gdpr_setting"),
    path("assets/", views.asset_index, name="asset_index"),
    path("assets/<slug:kind>/", views.asset_list, name="asset_list"),
    path("assets/<slug:kind>/new/", views.asset_create, name="asset_create"),
    path("assets/<slug:kind>/<int:pk>/", views.asset_edit, name="asset_edit"),
    path("assets/<slug:kind>/<int:pk>/parts/", views.asset_part_add, name="asset_part_add"),
    path("assets/<slug:kind>/<int:pk>/parts/<int:part_pk>/", views.asset_part_edit, name="asset_part_edit"),
]
