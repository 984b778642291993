"""``manage.py import_baskets FILE [--create-products]``: till baskets (one
per line, comma-separated item names) imported as baskets of product ids for
the co-purchase model; the next build mines them. ``--create-products`` makes
a demo catalogue whose SKUs derive from the names (``whole milk`` ->
``DEMO-WHOLE-MILK``)."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from commerce.recommendations.baskets import basket_lines, baskets_import


class Command(BaseCommand):
    help = "Import till baskets (one per line, comma-separated item names) for the co-purchase model."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--create-products", action="store_true", help="Create missing products (demo SKUs from the names)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        total = sum(1 for _ in basket_lines(path))
        with tqdm(total=total, desc="baskets", unit="basket", file=self.stderr._out) as bar:
            report = baskets_import(
                path=path, create_products=options["create_products"], progress=lambda done: bar.update(done - bar.n)
            )
        self.stdout.write(
            f"{report.baskets} baskets imported, {report.products_created} products created, "
            f"{report.skipped_lines} lines without a known product"
        )
        if report.unknown_names:
            shown = ", ".join(report.unknown_names[:10])
            more = f" and {len(report.unknown_names) - 10} more" if len(report.unknown_names) > 10 else ""
            self.stdout.write(f"Names with no product (use --create-products): {shown}{more}")
