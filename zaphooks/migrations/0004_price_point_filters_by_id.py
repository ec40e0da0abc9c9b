"""Price-point filters name the price point by its id from now on (it was its number within the
product, which the products dropdown never gave): rewrite stored resolved filters both ways."""

from django.db import migrations


def _rewrite(apps, *, to_id: bool) -> None:
    Subscription = apps.get_model("zaphooks", "Subscription")
    PricePoint = apps.get_model("leads", "PricePoint")
    for subscription in Subscription.objects.filter(filter_resolved__has_key="price_point"):
        resolved = dict(subscription.filter_resolved)
        product_id, value = resolved.get("product"), resolved["price_point"]
        if to_id:
            found = PricePoint.objects.filter(product_id=product_id, number=value).values_list("pk", flat=True).first()
        else:
            found = PricePoint.objects.filter(pk=value).values_list("number", flat=True).first()
        if found is None:
            continue  # the price point is gone: the filter matched nothing before and still does not
        resolved["price_point"] = found
        Subscription.objects.filter(pk=subscription.pk).update(filter_resolved=resolved)


def numbers_to_ids(apps, schema_editor):
    _rewrite(apps, to_id=True)


def ids_to_numbers(apps, schema_editor):
    _rewrite(apps, to_id=False)


class Migration(migrations.Migration):
    dependencies = [
        ("zaphooks", "0003_hook_event_erased_at"),
        ("leads", "0009_lead_action_title_case_labels"),
    ]

    operations = [migrations.RunPython(numbers_to_ids, ids_to_numbers)]
