from django import forms
from django.utils import timezone

from leads.models import LeadAction


class EndpointForm(forms.Form):
    target_url = forms.CharField(
        label="Endpoint URL", max_length=2000, help_text="https only; we POST signed JSON here."
    )
    # The label a person knows the trigger by, and the action name their receiver will see.
    events = forms.MultipleChoiceField(
        choices=[(action.value, f"{action.label} ({action.value})") for action in LeadAction],
        widget=forms.CheckboxSelectMultiple,
        label="Events to send",
        error_messages={"required": "Tick at least one event."},
    )


class ReplayRangeForm(forms.Form):
    """Read in the current time zone: the account's on owner pages (accounts.decorators.owner_required)."""

    since = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="From")
    until = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="To")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        for name in ("since", "until"):
            self.fields[name].label = f"{self.fields[name].label} ({zone})"

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] >= cleaned["until"]:
            self.add_error("until", "The end must come after the start.")
        return cleaned
