from django import forms
from django.contrib.auth import password_validation

from .models import KARTRA_COMMANDS, TIME_ZONE_CHOICES, User


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


class ApiAppForm(forms.Form):
    """Register or edit a developer app of the command API (POST /api)."""

    name = forms.CharField(max_length=100, label="App name")
    allowed_ips = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Allowed IP addresses",
        help_text="One address or network a line (203.0.113.7, 198.51.100.0/24, 2001:db8::/48). Empty: any address.",
    )
    allowed_commands = forms.MultipleChoiceField(
        required=False,
        choices=[(name, name) for name in KARTRA_COMMANDS],
        widget=forms.CheckboxSelectMultiple,
        label="Allowed commands",
        help_text="Tick none to allow every command.",
    )

    @staticmethod
    def initial_for(api_app) -> dict:
        return {
            "name": api_app.name,
            "allowed_ips": "\n".join(api_app.allowed_ips),
            "allowed_commands": list(api_app.allowed_commands),
        }

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "allowed_ips": data["allowed_ips"].splitlines(),
            "allowed_commands": data["allowed_commands"],
        }


class GoLiveForm(forms.Form):
    stated_use = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What does the app do?",
        help_text="A moderator reads this before the app leaves test mode.",
    )


class GoLiveAnswerForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Your answer")
