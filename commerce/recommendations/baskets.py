"""Till basket files: one basket per line, item names separated by commas
(the layout of the public "Groceries" market-basket file). Names are trimmed
and repeats within a basket count once; blank lines are skipped."""

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

# Demo catalogue SKUs: "DEMO-" and the name in capitals, runs of anything but
# letters and digits as one dash ("whole milk" -> DEMO-WHOLE-MILK), cut to the
# 64 characters a SKU holds.
SKU_PREFIX = "DEMO-"
SKU_MAX = 64


def basket_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, distinct names in first-seen order) of each non-blank line."""
    with path.open(encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, start=1):
            names = [name.strip() for name in line.split(",")]
            distinct = list(dict.fromkeys(name for name in names if name))
            if distinct:
                yield number, distinct


def sku_of_name(name: str) -> str:
    """The demo catalogue's SKU of an item name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").upper() or "ITEM"
    return (SKU_PREFIX + slug)[:SKU_MAX].rstrip("-")
