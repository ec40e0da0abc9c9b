from django import forms

from .filters import EVENTS


class EndpointForm(forms.Form):
    target_url = forms.CharField(
        label="Endpoint URL", max_length=2000, help_text="https only; we POST signed JSON here."
    )
    events = forms.MultipleChoiceField(
        choices=[(event, event) for event in EVENTS], widget=forms.CheckboxSelectMultiple, label="Events to send"
    )


class ReplayRangeForm(forms.Form):
    since = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="From (UTC)")
    until = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="To (UTC)")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] >= cleaned["until"]:
            raise forms.ValidationError("The start must come before the end.")
        return cleaned
