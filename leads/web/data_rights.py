"""Owner pages for a lead's data rights: consent history, JSON export, erasure (POST, confirmed)."""

import json

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.decorators import owner_required
from kartra_integrations.errors import ApplicationError
from kartra_integrations.forms import form_add_application_error
from leads.models import ConsentRecord, Lead, LeadErasure
from leads.services.data_rights import lead_erase, lead_export


class EraseConfirmForm(forms.Form):
    confirm = forms.CharField(max_length=20, label='Type "ERASE" to confirm')

    def clean_confirm(self):
        if self.cleaned_data["confirm"].strip() != "ERASE":
            raise forms.ValidationError('Type "ERASE" in capitals to confirm.')
        return self.cleaned_data["confirm"]


def _owned_lead(account, lead_id: int) -> Lead:
    lead = Lead.objects.select_related("account").filter(account=account, pk=lead_id).first()
    if lead is None:
        raise Http404("No lead found")
    return lead


@owner_required
def lead_data(request, account, lead_id: int):
    lead = _owned_lead(account, lead_id)
    context = {
        "lead": lead,
        "consent_records": ConsentRecord.objects.filter(lead=lead).select_related("actor"),
        "erasure": LeadErasure.objects.filter(lead=lead).first(),
        "form": EraseConfirmForm(),
    }
    return render(request, "leads/data_rights/lead_data.html", context)


@owner_required
def lead_data_export(request, account, lead_id: int):
    lead = _owned_lead(account, lead_id)
    response = HttpResponse(json.dumps(lead_export(lead=lead), indent=2, default=str), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="lead-{lead.pk}.json"'
    return response


@owner_required
@require_http_methods(["POST"])
def lead_data_erase(request, account, lead_id: int):
    lead = _owned_lead(account, lead_id)
    form = EraseConfirmForm(request.POST)
    if form.is_valid():
        try:
            lead_erase(lead=lead, actor=request.user)
        except ApplicationError as exc:
            form_add_application_error(form, exc)
        else:
            messages.success(request, "The lead's personal data has been erased.")
            return redirect("lead_data:detail", lead_id=lead.pk)
    context = {
        "lead": lead,
        "consent_records": ConsentRecord.objects.filter(lead=lead).select_related("actor"),
        "erasure": LeadErasure.objects.filter(lead=lead).first(),
        "form": form,
    }
    return render(request, "leads/data_rights/lead_data.html", context, status=400)
