from django.db import migrations, models

# Starts-with searches of the leads list (selectors.lead_search_filter) compare lower(column) LIKE 'x%';
# a btree index serves LIKE whatever the database collation only with text_pattern_ops, which is
# PostgreSQL's: created here on PostgreSQL only (SQLite, the test fallback, scans).
PREFIX_INDEXES = {
    "lead_email_prefix_idx": "email",
    "lead_first_name_prefix_idx": "first_name",
    "lead_last_name_prefix_idx": "last_name",
}


def create_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in PREFIX_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON leads_lead (account_id, lower({column}) text_pattern_ops)"
        )


def drop_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in PREFIX_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("leads", "0002_consent_records_step_deliveries_erasures"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["account", "-id"], name="lead_account_id_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["account", "gdpr_status", "-id"], name="lead_account_gdpr_idx"),
        ),
        migrations.RunPython(create_prefix_indexes, drop_prefix_indexes, elidable=False),
    ]
