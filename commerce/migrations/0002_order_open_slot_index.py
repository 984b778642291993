# The orders table is the big one: the index is built without blocking writes.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("commerce", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(
                condition=models.Q(("status__in", ["placed", "preparing", "ready"])),
                fields=["slot"],
                name="order_open_slot_idx",
            ),
        ),
    ]
