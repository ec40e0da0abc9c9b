"""A commit that wrote lead events wakes the running hook dispatchers through PostgreSQL itself: a
statement-level trigger on leads_leadevent NOTIFYs the channel they LISTEN on (zaphooks.wake
WAKE_CHANNEL; the name is frozen here, as a migration must be). PostgreSQL delivers a notification
only when its transaction commits and folds the duplicates of one transaction into one, so an import
of thousands of events wakes them once. Only when the statement inserted a row: an assign_tag that
found the tag already there inserts no event, and a NOTIFY would make its commit write and flush WAL
for nothing. SQLite (development) has no trigger: the wake-up always goes through Redis there."""

from django.db import migrations

CREATE = """
CREATE FUNCTION zaphooks_wake_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM inserted) THEN
        PERFORM pg_notify('zaphooks_wake', '');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER zaphooks_wake AFTER INSERT ON leads_leadevent
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION zaphooks_wake_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS zaphooks_wake ON leads_leadevent;
DROP FUNCTION IF EXISTS zaphooks_wake_notify();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("zaphooks", "0004_price_point_filters_by_id"),
        ("leads", "0011_lead_source_api_test_and_test_lead_hold"),
    ]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
