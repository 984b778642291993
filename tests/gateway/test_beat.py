"""Every beat entry names a task that a worker knows. A worker imports
``<app>.tasks`` of each installed app and nothing else, so a task defined
in another module and not imported there is refused as unregistered; a
fresh process, set up as the worker sets itself up, shows what it knows."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

WORKER_VIEW = """
import json, django
django.setup()
from gateway.celery import app
app.loader.import_default_modules()
print(json.dumps(sorted(app.tasks)))
"""


def test_every_beat_entry_names_a_task_the_worker_registers() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WORKER_VIEW],
        cwd=Path(__file__).resolve().parents[2],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    registered = set(json.loads(done.stdout.strip().splitlines()[-1]))

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled - registered == set()
    assert "commerce.recommendations.tasks.co_purchase_model_rebuild_nightly" in scheduled
    # the build a request asks for (POST .../rebuild) runs on the worker too
    assert "commerce.recommendations.tasks.co_purchase_model_rebuild" in registered
