from django.urls import path, register_converter

from leads.hosted import views


class PublicIdConverter:
    """A hosted form's or product's public id, as `str` takes it but without NUL: PostgreSQL cannot
    compare text holding one (a 500), so /f/%00/ is Django's 404 before any query. Any other id
    that matches nothing is the hosted pages' own "does not exist" 404."""

    regex = r"[^/\x00]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PublicIdConverter, "public_id")

app_name = "hosted"

urlpatterns = [
    path("f/confirm/<str:token>/", views.hosted_form_confirm, name="form_confirm"),
    path("f/<public_id:public_id>/", views.hosted_form, name="form"),
    path("f/<public_id:public_id>/thanks/", views.hosted_form_done, name="form_done"),
    path("c/<public_id:public_id>/", views.hosted_checkout, name="checkout"),
    path("c/<public_id:public_id>/thanks/", views.hosted_checkout_done, name="checkout_done"),
]
