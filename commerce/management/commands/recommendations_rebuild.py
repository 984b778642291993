"""``manage.py recommendations_rebuild``: build the live co-purchase model now,
in this process (the API and the nightly beat entry queue the same build for
a Celery worker instead). For operations, the demo and the benchmark."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from commerce.models import ModelState
from commerce.recommendations.building import co_purchase_model_build, co_purchase_rebuild_request


class Command(BaseCommand):
    help = "Build the live co-purchase model from collected orders and imported baskets, and switch to it."

    def handle(self, *args: Any, **options: Any) -> None:
        request = co_purchase_rebuild_request(enqueue=False)
        if not request.created:
            raise CommandError(f"Build {request.model.pk} is already under way.")
        started = time.perf_counter()
        model = co_purchase_model_build(model_id=request.model.pk)
        elapsed = time.perf_counter() - started
        if model is None or model.state != ModelState.READY:
            raise CommandError(f"Build {request.model.pk} did not complete.")
        self.stdout.write(
            f"model {model.pk}: {model.basket_count} baskets, {model.item_count} products, "
            f"{model.score_count} scores, built in {elapsed:.2f} s"
        )
