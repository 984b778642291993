# The outbox is the table every business write appends to, in bulk: indexes no
# query uses go (see the Event docstring), dropped without blocking writes.
# partner_id: the partner feed index (partner, txid, id) leads with it.
# type: the feed filters types while walking its (txid, id) index; nothing else
# searches by type (the admin lists the known types instead of SELECT DISTINCT).

import django.db.models.deletion
from django.db import migrations, models

_DROPPED = {
    "partners_event_partner_id_eca55a1f": "(partner_id)",
    "partners_event_type_8ed7055b": "(type)",
    "partners_event_type_8ed7055b_like": "(type varchar_pattern_ops)",
}


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("partners", "0003_webhooks"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="partner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="partners.partner",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="type",
                    field=models.CharField(max_length=64),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
                    reverse_sql=f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON partners_event {columns}",
                )
                for name, columns in _DROPPED.items()
            ],
        ),
    ]
