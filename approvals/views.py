# Placeholder until the activation review queue lands (issue 2, approvals).
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def integrations(request):
    return HttpResponse("My integrations")


@login_required
def queue(request):
    return HttpResponse("Review queue")
