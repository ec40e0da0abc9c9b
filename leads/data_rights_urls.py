from django.urls import path

from . import data_rights_views

app_name = "lead_data"

urlpatterns = [
    path("", data_rights_views.lead_data, name="detail"),
    path("export.json", data_rights_views.lead_data_export, name="export"),
    path("erase/", data_rights_views.lead_data_erase, name="erase"),
]
