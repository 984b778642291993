"""Data: daily sales totals of the sales intervals stored before SalesDay
existed (a sale belongs to the store-local day its interval starts in)."""

from django.db import migrations

FORWARD = """
INSERT INTO footfall_salesday (store_id, day, revenue_currency, tickets, revenue_amount)
SELECT s.store_id, (s.start AT TIME ZONE l.time_zone)::date, s.revenue_currency, sum(s.tickets), sum(s.revenue_amount)
FROM footfall_salesinterval s JOIN inventory_location l ON l.id = s.store_id
GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING
"""

BACKWARD = "DELETE FROM footfall_salesday"


class Migration(migrations.Migration):
    dependencies = [("footfall", "0002_sales_day")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
