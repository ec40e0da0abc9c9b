from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/api/", views.api_credentials, name="api_credentials"),
    path("settings/api/<slug:kind>/password/", views.api_password_create_view, name="api_password_create"),
    path(
        "settings/api/<slug:kind>/regenerate/", views.api_credentials_regenerate_view, name="api_credentials_regenerate"
    ),
    path("settings/api/apps/", views.api_app_register_view, name="api_app_register"),
    path("settings/api/apps/<int:pk>/", views.api_app_view, name="api_app"),
    path("settings/api/apps/<int:pk>/revoke/", views.api_app_revoke_view, name="api_app_revoke"),
    path("settings/api/apps/<int:pk>/go-live/", views.api_app_go_live_view, name="api_app_go_live"),
    path(
        "settings/api/apps/<int:pk>/go-live/answer/", views.api_app_go_live_answer_view, name="api_app_go_live_answer"
    ),
]
