"""The evaluation protocol, run on the scratch area of the database with the
scoring the API serves from:

- the model and the two baselines (most popular items; plain co-occurrence
  confidence) are built from the train file by ``co_purchase_scratch_build``;
- every test basket with at least two distinct items is replayed with each
  item hidden in turn: the model recommends ``k`` products from the others,
  a hit when the hidden item is among them; hit@k = hits / hidden items;
- no stock filter: the items of a file are names, not stocked products, so
  the scratch versions use ids local to the run (the score tables carry no
  foreign-key constraint for this reason) and are dropped at the end.

Items of the test file never seen in training stay hidden items (a miss for
every method): what an unseen product costs is part of the figure."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from commerce.recommendations.baskets import basket_lines
from commerce.recommendations.building import co_purchase_scratch_build, co_purchase_scratch_drop
from commerce.recommendations.mining import CONFIDENCE, EASE, POPULARITY
from commerce.recommendations.scoring import basket_scores, model_version_of

KS = (5, 10)


@dataclass(frozen=True)
class Evaluation:
    train_baskets: int
    test_baskets: int
    hidden_items: int
    hits: dict[str, dict[int, int]]

    def hit_rate(self, method: str, k: int) -> float:
        return self.hits[method][k] / self.hidden_items if self.hidden_items else 0.0


def recommendations_evaluate(
    *,
    train: Path,
    test: Path,
    methods: tuple[str, ...] = (EASE, POPULARITY, CONFIDENCE),
    progress: Callable[[str, int, int], None] | None = None,
) -> Evaluation:
    ids: dict[str, int] = {}

    def encode(names: list[str]) -> list[int]:
        return [ids.setdefault(name, len(ids) + 1) for name in names]

    train_baskets = [encode(names) for _number, names in basket_lines(train)]
    test_baskets = [basket for basket in (encode(names) for _n, names in basket_lines(test)) if len(basket) >= 2]
    hidden_items = sum(len(basket) for basket in test_baskets)
    models = []
    hits: dict[str, dict[int, int]] = {}
    try:
        for method in methods:
            model = co_purchase_scratch_build(baskets=train_baskets, method=method)
            models.append(model)
            version = model_version_of(model.pk, model.method, model.parameters, model.created_at)
            counts = dict.fromkeys(KS, 0)
            for done, basket in enumerate(test_baskets, start=1):
                for hidden in basket:
                    rest = [item for item in basket if item != hidden]
                    top = [scored.product_id for scored in basket_scores(model=version, basket=rest, limit=max(KS))]
                    for k in KS:
                        counts[k] += hidden in top[:k]
                if progress is not None:
                    progress(method, done, len(test_baskets))
            hits[method] = counts
    finally:
        co_purchase_scratch_drop(models=models)
    return Evaluation(len(train_baskets), len(test_baskets), hidden_items, hits)
