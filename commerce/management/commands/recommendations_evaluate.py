"""``manage.py recommendations_evaluate --train FILE --test FILE``: hit@5 and
hit@10 of the served model and of the two baselines, side by side, built in
the database's scratch area (never the live model). See
``commerce.recommendations.evaluation`` for the protocol."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from commerce.recommendations.evaluation import KS, recommendations_evaluate
from commerce.recommendations.mining import CONFIDENCE, EASE, POPULARITY

# RESULT names of each method: the served model unprefixed.
PREFIX = {EASE: "", POPULARITY: "popularity_", CONFIDENCE: "confidence_"}


class Command(BaseCommand):
    help = "Hit rate at 5 and 10 of the co-purchase model and two baselines (hide one item of each test basket)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--train", required=True, type=Path, help="Baskets to mine (one per line).")
        parser.add_argument("--test", required=True, type=Path, help="Baskets to replay (one per line).")

    def handle(self, *args: Any, **options: Any) -> None:
        train, test = options["train"], options["test"]
        for path in (train, test):
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
        bars: dict[str, tqdm[Any]] = {}

        def progress(method: str, done: int, total: int) -> None:
            bar = bars.get(method)
            if bar is None:
                bar = bars[method] = tqdm(total=total, desc=method, unit="basket", file=self.stderr._out)
            bar.update(done - bar.n)
            if done == total:
                bar.close()

        result = recommendations_evaluate(train=train, test=test, progress=progress)
        self.stdout.write(
            f"train baskets {result.train_baskets}, test baskets with >= 2 items {result.test_baskets}, "
            f"hidden items {result.hidden_items}"
        )
        for method, prefix in PREFIX.items():
            for k in KS:
                self.stdout.write(f"RESULT {prefix}hit_at_{k}={result.hit_rate(method, k):.4f} ratio")
