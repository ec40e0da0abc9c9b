from django import forms

from .errors import ApplicationError


def form_add_application_error(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal on a page's form: field messages on their fields, the rest above it."""
    for name, messages in (error.fields or {None: [error.message]}).items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
