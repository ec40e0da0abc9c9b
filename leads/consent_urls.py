"""Issue 7's pages, included from the root URLconf with one line: hosted pages and data rights."""

from django.urls import include, path

urlpatterns = [
    path("", include("leads.hosted_urls")),  # /f/<public id>/, /c/<public id>/
    path("leads/<int:lead_id>/data/", include("leads.data_rights_urls")),  # owner: consent, export, erase
]
