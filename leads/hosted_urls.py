from django.urls import path

from . import hosted_views

app_name = "hosted"

urlpatterns = [
    path("f/confirm/<str:token>/", hosted_views.hosted_form_confirm, name="form_confirm"),
    path("f/<str:public_id>/", hosted_views.hosted_form, name="form"),
    path("f/<str:public_id>/thanks/", hosted_views.hosted_form_done, name="form_done"),
    path("c/<str:public_id>/", hosted_views.hosted_checkout, name="checkout"),
    path("c/<str:public_id>/thanks/", hosted_views.hosted_checkout_done, name="checkout_done"),
]
