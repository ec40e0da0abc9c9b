from django.urls import path

from leads.web import data_rights

app_name = "lead_data"

urlpatterns = [
    path("", data_rights.lead_data, name="detail"),
    path("export.json", data_rights.lead_data_export, name="export"),
    path("erase/", data_rights.lead_data_erase, name="erase"),
]
