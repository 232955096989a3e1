"""Paging over fused rankings: the settled head of fused prefixes is the head of the complete fusion, so
pages cut from windows of any size give one order, every id once."""

from __future__ import annotations

import random

import pytest

from indexer.engines.types import MAX_WINDOW, Hit
from search_api.query.fusion import Ranking, rrf, rrf_prefix
from search_api.query.paging import RANK_WINDOW, Retrieved, fetch_fused, first_window, fuse


def _rankings(seed: int, n: int = 60) -> dict[str, list[str]]:
    rnd = random.Random(seed)
    ids = [f"p{i:03d}" for i in range(n)]
    lexical = rnd.sample(ids, k=rnd.randrange(1, n))  # text matches: a subset
    vector = rnd.sample(ids, k=n)  # the vector side ranks every product under the filter
    return {"lexical": lexical, "vector": vector}


@pytest.mark.parametrize("seed", range(30))
def test_settled_head_of_prefixes_is_the_head_of_the_complete_fusion(seed: int) -> None:
    full = _rankings(seed)
    whole = [d for d, _ in rrf(full)]
    for cut in (1, 5, 17, 40, 59, 60):
        prefixes = {name: Ranking(ids[:cut], complete=cut >= len(ids)) for name, ids in full.items()}
        fused = rrf_prefix(prefixes)
        assert fused.ids[: fused.settled] == whole[: fused.settled]
        if all(r.complete for r in prefixes.values()):
            assert fused.settled == len(whole) and fused.ids == whole


def test_nothing_settles_while_an_unseen_id_could_still_win() -> None:
    # "c" is first in neither prefix but could be second in both rankings: "a" alone is certain.
    fused = rrf_prefix({"x": Ranking(["a", "b"], complete=False), "y": Ranking(["a", "d"], complete=False)})
    assert fused.settled == 1 and fused.ids[0] == "a"
    assert rrf_prefix({"x": Ranking(["a"], complete=True), "y": Ranking(["b"], complete=True)}).settled == 2


def test_a_zero_weight_ranking_never_holds_the_head_back() -> None:
    fused = rrf_prefix({"x": Ranking(["a", "b"], complete=True), "y": Ranking(["z"], complete=False)},
                       weights={"y": 0})
    assert fused.ids == ["a", "b"] and fused.settled == 2


class _Engine:
    """A retriever over a fixed ranking that records the windows it was asked for."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self.asked: list[int] = []

    def __call__(self, n: int) -> Retrieved:
        self.asked.append(n)
        hits = [Hit(d, 1.0 / (i + 1)) for i, d in enumerate(self.ids[:n])]
        return Retrieved(hits, complete=len(hits) < n or n >= len(self.ids), total=len(self.ids))


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("size", [7, 20, 100])
def test_pages_cut_from_growing_windows_are_one_order(seed: int, size: int) -> None:
    # Rankings inside the rank window, read from a first window smaller than it: the prefixes grow.
    full = _rankings(seed, n=RANK_WINDOW - 5)
    whole = [d for d, _ in rrf(full)]
    seen: list[str] = []
    for offset in range(0, len(whole) + size, size):
        engines = {name: _Engine(ids) for name, ids in full.items()}
        page = fetch_fused(engines, offset + size, first=10, k=60, weights={})
        assert page.settled >= min(offset + size, len(whole))
        seen += page.ids[offset: offset + size]
    assert seen == whole  # every id once, in the order of the complete fusion


def _shuffled_in_blocks(ids: list[str], seed: int, block: int = 8) -> list[str]:
    rnd = random.Random(seed)
    out: list[str] = []
    for start in range(0, len(ids), block):
        chunk = ids[start:start + block]
        rnd.shuffle(chunk)
        out += chunk
    return out


def test_page_one_asks_for_the_first_window_once() -> None:
    # Retrievers that mostly agree, as lexical and vector do on a real query.
    ids = [f"p{i:04d}" for i in range(5000)]
    engines = {"lexical": _Engine(_shuffled_in_blocks(ids[:800], 1)), "vector": _Engine(_shuffled_in_blocks(ids, 2))}
    fetch_fused(engines, 10, first=100, k=60, weights={})
    assert engines["vector"].asked == [100]


def test_windows_are_bounded() -> None:
    assert first_window(100, 10) == 100 and first_window(100, 300) == 600
    assert first_window(100, MAX_WINDOW) == MAX_WINDOW
    engines = {"x": _Engine([f"p{i}" for i in range(3 * MAX_WINDOW)]),
               "y": _Engine([f"p{i}" for i in reversed(range(3 * MAX_WINDOW))])}
    page = fetch_fused(engines, MAX_WINDOW, first=100, k=60, weights={}, rest="y")
    assert max(engines["x"].asked) == RANK_WINDOW and max(engines["y"].asked) == MAX_WINDOW
    assert len(page.ids) >= MAX_WINDOW


def _reference(full: dict[str, list[str]], rest: str) -> list[str]:
    """The complete order: RRF over each ranking's first RANK_WINDOW places, then `rest` past them."""
    scored = [d for d, _ in rrf({name: ids[:RANK_WINDOW] for name, ids in full.items()})]
    return scored + [d for d in full[rest][RANK_WINDOW:] if d not in set(scored)]


def test_disagreeing_rankings_read_at_most_the_rank_window_for_page_one() -> None:
    full = _rankings(11, n=20_000)  # unrelated orders: nothing settles until the windows close
    engines = {name: _Engine(ids) for name, ids in full.items()}
    page = fetch_fused(engines, 10, first=100, k=60, weights={}, rest="vector")
    assert max(engines["lexical"].asked) == max(engines["vector"].asked) == RANK_WINDOW
    assert page.ids[:10] == _reference(full, "vector")[:10] and page.settled >= 10


@pytest.mark.parametrize("size", [37, 100])
def test_pages_past_the_rank_window_follow_the_vector_order(size: int) -> None:
    full = _rankings(12, n=1500)
    whole = _reference(full, "vector")
    assert len(whole) == 1500
    seen: list[str] = []
    for offset in range(0, len(whole) + size, size):
        engines = {name: _Engine(ids) for name, ids in full.items()}
        page = fetch_fused(engines, offset + size, first=100, k=60, weights={}, rest="vector")
        seen += page.ids[offset: offset + size]
    assert seen == whole


def test_one_retriever_keeps_its_own_scores_and_count() -> None:
    page = fuse({"lexical": Retrieved([Hit("a", 3.0), Hit("b", 2.0)], complete=False, total=9, exact=False)},
                k=60, weights={})
    assert page.ids == ["a", "b"] and page.scores == {"a": 3.0, "b": 2.0}
    assert page.settled == 2 and page.total == 9 and not page.exact and not page.complete
