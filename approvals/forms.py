from django import forms

from .models import DecisionReason, Outcome, RequestState, RevocationReason


def _choose(choices):
    return [("", "Choose…"), *choices]


class ActivationRequestForm(forms.Form):
    stated_use = forms.CharField(
        label="What will you use Zapier for?",
        help_text="A few sentences: which apps you will connect to Kartra and what your Zaps will do.",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label="Your answer", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices, widget=forms.RadioSelect)
    reason = forms.ChoiceField(choices=_choose(DecisionReason.moderator_choices()))
    note = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Required for "Other" and when asking for information (the owner reads it).',
    )


class ClaimForm(forms.Form):
    out_of_order_reason = forms.CharField(
        label="Why this request before the older ones?",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when older requests wait ahead of this one; it is written to the audit trail.",
    )


class RevokeForm(forms.Form):
    prefix = "revoke"
    reason = forms.ChoiceField(choices=_choose(RevocationReason.choices))
    note = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class SupportNoteForm(forms.Form):
    body = forms.CharField(
        label="Advisory note for moderators",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Notes inform the review; they do not change its order or outcome.",
    )


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(required=False, choices=[("", "Open requests"), *RequestState.choices])
    overdue = forms.BooleanField(required=False, label="Overdue only")
    mine = forms.BooleanField(required=False, label="Assigned to me")


class ActivationPolicyForm(forms.Form):
    enabled = forms.BooleanField(
        required=False,
        label="Activate accounts that meet the policy at once",
        help_text="Off: every account requests review. On: accounts meeting every criterion below skip the queue.",
    )
    min_account_age_days = forms.IntegerField(
        label="Minimum account age (days)", min_value=0, max_value=3650, initial=30
    )
    require_clean_history = forms.BooleanField(
        required=False,
        label="No earlier rejected request and no earlier revocation",
        initial=True,
    )
