"""Every page of the lead database, included from the root URLconf with one line: the owner's pages
(leads.web: /leads/, /assets/, a lead's data rights under /leads/<id>/data/) and the visitors' hosted
pages (leads.hosted: /f/<public id>/, /c/<public id>/). The v1 API's routes are leads.api.urls."""

from django.urls import include, path

urlpatterns = [
    path("", include("leads.web.urls")),  # namespace "leads"
    path("leads/<int:lead_id>/data/", include("leads.web.data_rights_urls")),  # namespace "lead_data"
    path("", include("leads.hosted.urls")),  # namespace "hosted"
]
