"""The forms a visitor fills in on the hosted opt-in and checkout pages."""

from django import forms

from leads.models import ConsentPurpose


class OptInForm(forms.Form):
    email = forms.EmailField(max_length=254)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, notices: dict[str, str] | None = None, **kwargs):
        """notices: the consent wording per purpose; given only to visitors who must be asked."""
        super().__init__(*args, **kwargs)
        for purpose, text in (notices or {}).items():
            self.fields[purpose] = forms.BooleanField(required=False, label=text)

    @property
    def consent_fields(self) -> list:
        return [self[name] for name in ConsentPurpose.values if name in self.fields]

    @property
    def profile_fields(self) -> list:
        return [field for field in self if field.name not in ConsentPurpose.values]

    def granted_purposes(self) -> set[str]:
        return {name for name in ConsentPurpose.values if self.cleaned_data.get(name)}


class PricePointChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.amount} {obj.currency}"


class CheckoutForm(OptInForm):
    def __init__(self, *args, price_points, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price_point"] = PricePointChoiceField(
            queryset=price_points,
            empty_label=None,
            label="Price",
            error_messages={"invalid_choice": "Choose one of this product's prices."},
        )
        self.order_fields(["price_point", "email", "first_name", "last_name"])
