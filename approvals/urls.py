from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("integrations/", views.integrations, name="integrations"),
    path("integrations/request/", views.request_submit, name="request_submit"),
    path("integrations/requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("integrations/requests/<int:pk>/answer/", views.request_answer, name="request_answer"),
    path("moderation/queue/", views.queue, name="queue"),
    path("moderation/policy/", views.activation_policy, name="activation_policy"),
    path("moderation/queue/claim-next/", views.request_claim_next, name="request_claim_next"),
    path("moderation/requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("moderation/requests/<int:pk>/claim/", views.request_claim, name="request_claim"),
    path("moderation/requests/<int:pk>/decide/", views.request_decide, name="request_decide"),
    path("moderation/requests/<int:pk>/revoke/", views.account_revoke, name="account_revoke"),
    path("moderation/requests/<int:pk>/notes/", views.support_note_add, name="support_note_add"),
]
