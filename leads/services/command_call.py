"""What a command is and what it is called with: Command (a name, its success message, the service it
runs, the inputs it takes), CommandCall (the account, the inputs, and the one place that resolves the
lead and asset references) and CommandResult. The registry itself, the table of commands and
command_run, is leads.services.commands."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from accounts.models import Account
from kartra_integrations.errors import NotFound
from leads.models import (
    Asset,
    Calendar,
    CalendarClass,
    Lead,
    Membership,
    MembershipLevel,
    PricePoint,
    Product,
    RecurringSubscription,
    Transaction,
)
from leads.selectors import (
    asset_resolve,
    calendar_class_resolve,
    lead_details,
    membership_level_resolve,
    price_point_resolve,
    recurring_subscription_get,
    transaction_get,
)

A = TypeVar("A", bound=Asset)


class ReferenceNotFound(NotFound):
    """An input that names nothing in the account: `reference` is the input's key."""

    def __init__(self, message: str, *, code: str, reference: str):
        super().__init__(message, code=code)
        self.reference = reference


@dataclass
class CommandResult:
    message: str
    lead: Lead | None = None
    objects: dict[str, Any] = field(default_factory=dict)  # what the command wrote: "transaction", "sale", ...
    document: dict | None = None  # the lead's document, when the command's statement read it already

    @property
    def lead_document(self) -> dict | None:
        if self.document is not None:
            return self.document
        return lead_details(self.lead) if self.lead is not None else None


@dataclass
class CommandCall:
    """One run of a command: the account, its lead (when the command acts on one), the inputs, and
    the resolution of every reference in them."""

    account: Account
    lead: Lead | None
    inputs: dict[str, Any]

    @contextmanager
    def reference(self, key: str) -> Iterator[None]:
        """A NotFound raised inside is about the input `key`."""
        try:
            yield
        except ReferenceNotFound:
            raise
        except NotFound as error:
            raise ReferenceNotFound(error.message, code=error.code, reference=key) from None

    def lead_named(self) -> dict[str, Any]:
        """How the call names its lead, for a service that finds it in its own statement
        (leads.selectors.lead_lookup's arguments): the lead a front door found, by its id."""
        if self.lead is not None:
            return {"lead_id": self.lead.pk}
        inputs = self.inputs
        return {
            "lead_id": inputs.get("lead_id"),
            "email": inputs.get("email"),
            "test_mode": bool(inputs.get("test_mode")),
        }

    @property
    def required_lead(self) -> Lead:
        """The lead of a command that acts on one (`lead="required"`: command_run found it)."""
        assert self.lead is not None, "a command with a required lead runs with one"
        return self.lead

    def asset(self, model: type[A]) -> A:
        """The account's asset of this kind named by the input under its key (`model.kind`, "tag",
        "list", ...: leads.models.ASSET_KINDS), an id or its exact name."""
        with self.reference(model.kind):
            return asset_resolve(account=self.account, model=model, ref=self.inputs[model.kind])

    def calendar_class(self) -> CalendarClass:
        calendar = self.asset(Calendar)
        with self.reference("class"):
            return calendar_class_resolve(calendar=calendar, ref=self.inputs["class"])

    def membership_level(self) -> MembershipLevel:
        membership = self.asset(Membership)
        with self.reference("level"):
            return membership_level_resolve(membership=membership, ref=self.inputs["level"])

    def price_point(self) -> PricePoint:
        product = self.asset(Product)
        with self.reference("price_point"):
            return price_point_resolve(product=product, number=self.inputs.get("price_point", 1))

    def sale(self) -> Transaction:
        """The transaction `transaction_id`; with a lead, it must be that lead's."""
        with self.reference("transaction_id"):
            sale = transaction_get(account=self.account, id=self.inputs["transaction_id"])
        self._owned(sale.lead_id, "transaction_id", f'Transaction "{self.inputs["transaction_id"]}" does not exist')
        return sale

    def subscription(self) -> RecurringSubscription:
        """The recurring subscription `subscription_id`; with a lead, it must be that lead's."""
        with self.reference("subscription_id"):
            subscription = recurring_subscription_get(account=self.account, id=self.inputs["subscription_id"])
        message = f'Subscription "{self.inputs["subscription_id"]}" does not exist'
        self._owned(subscription.lead_id, "subscription_id", message)
        return subscription

    def _owned(self, lead_id: int, key: str, message: str) -> None:
        if self.lead is not None and lead_id != self.lead.pk:
            raise ReferenceNotFound(message, code=f"{key.removesuffix('_id')}_not_found", reference=key)


@dataclass(frozen=True)
class Command:
    name: str
    message: str  # the success message, the one place it is stated
    # -> the objects it wrote, by name ("lead" replaces the call's lead); anything else is ignored
    run: Callable[[CommandCall], Any]
    # "required": acts on an existing lead (lead_id / email, or a lead already found); "optional": a
    # lead given is checked against what the command touches; "none": takes no lead.
    lead: Literal["required", "optional", "none"] = "required"
    # Finds its required lead itself, in the one statement that writes (CommandCall.lead_named):
    # command_run looks it up only when a front door gave a Lead, to check it.
    finds_lead: bool = False
    assets: tuple[str, ...] = ()  # inputs naming an asset or a part (by id or name)
    params: tuple[str, ...] = ()  # its other inputs


# ---------------------------------------------------------------------------------------------
# The commands: each resolves its references through the call and calls one service.
