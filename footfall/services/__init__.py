"""Writes on footfall: ingest of counts (``ingest``, device formats in
``adapters``) and sales (``sales``), the anomaly notifier (``anomalies``) and
the emailed reports (``reports``)."""
