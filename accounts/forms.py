from django import forms
from django.contrib.auth import password_validation

from .models import TIME_ZONE_CHOICES, User


class SignUpForm(forms.Form):
    email = forms.EmailField()
    account_name = forms.CharField(max_length=200, label="Business name")
    timezone = forms.ChoiceField(
        choices=TIME_ZONE_CHOICES, initial="UTC", label="Time zone", help_text="Your pages show times in this zone."
    )
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            # static/js/timezone-propose.js preselects the browser's zone; a re-shown form keeps the choice.
            self.fields["timezone"].widget.attrs["data-propose-browser-zone"] = ""

    def clean_email(self):
        email = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists.")
        return email

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("password"):
            user = User(email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(cleaned["password"], user)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class RegenerateCredentialsForm(forms.Form):
    """The confirmation of a regeneration. It names the key being replaced, so that submitting it
    again (a reload, a second tab) replaces nothing more once that key is gone."""

    api_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
