"""Names of the sensor table's unique constraints, from the model, so a
sensor service can tell which one a concurrent write broke."""

from footfall.models import Sensor

# Django declares ``unique=True`` inline; PostgreSQL names it <table>_<column>_key.
SENSOR_CODE_UNIQUE = f"{Sensor._meta.db_table}_{Sensor._meta.get_field('code').column}_key"
SENSOR_DEVICE_UNIQUE = "footfall_sensor_active_device_channel_unique"
