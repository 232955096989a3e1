"""Fixtures for the engine contract suites: a generated corpus and one opener per available backend.

Embedded backends (tantivy, Qdrant Edge) always run; Elasticsearch and Qdrant server run only when
ELASTICSEARCH_URL / QDRANT_URL are set, each test on its own throwaway index / collection.
An opener is `open(reopen=False) -> engine`: reopening gives a fresh engine on the same data, which
is how persistence after close is checked on every backend alike.
"""

from __future__ import annotations

import os
import random
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from indexer.documents import AttributeValue, IndexDocument
from indexer.filters import And, Eq, Filter, In, Not, Or, Range, matches

STORES = ("alpha", "beta")
COLORS = ("black", "red", "blue", "white")
MATERIALS = ("cotton", "wool", "polyester")
# Categories as root-first ancestor paths, as the taxonomy gives them.
CATEGORIES = (
    (["aa", "aa-1", "aa-1-13", "aa-1-13-8"], "Apparel & Accessories > Clothing > Tops > Hoodies", "hoodie"),
    (["aa", "aa-1", "aa-1-13", "aa-1-13-9"], "Apparel & Accessories > Clothing > Tops > T-Shirts", "t-shirt"),
    (["aa", "aa-1", "aa-1-4"], "Apparel & Accessories > Clothing > Dresses", "dress"),
    (["aa", "aa-8"], "Apparel & Accessories > Shoes", "sneaker"),
    (["sg", "sg-4"], "Sporting Goods > Fitness", "yoga mat"),
)
VENDORS = ("Acme", "Luma", "Northwind")
TAGS = ("sale", "new", "eco", "gift")
DIM = 8


def make_corpus(seed: int = 7, per_store: int = 24) -> list[IndexDocument]:
    rnd = random.Random(seed)
    docs = []
    for store in STORES:
        for i in range(per_store):
            path, full_name, noun = CATEGORIES[i % len(CATEGORIES)]
            color = COLORS[rnd.randrange(len(COLORS))]
            material = MATERIALS[rnd.randrange(len(MATERIALS))]
            attrs = [AttributeValue(handle="color", value=f"color__{color}", name=color.title()),
                     AttributeValue(handle="fabric", value=f"fabric__{material}", name=material.title())]
            if i % 4 == 0:  # a second color on some products: multi-valued attributes
                other = COLORS[(COLORS.index(color) + 1) % len(COLORS)]
                attrs.append(AttributeValue(handle="color", value=f"color__{other}", name=other.title()))
            docs.append(IndexDocument(
                store=store,
                product_id=f"{store[0]}{i:03d}",
                title=f"{color.title()} {material} {noun}s {i}" if i % 3 else f"{color.title()} {noun}",
                description=f"A comfortable {noun} made of {material}.",
                vendor=VENDORS[i % len(VENDORS)],
                product_type=noun,
                tags=rnd.sample(TAGS, k=rnd.randrange(3)),
                category_id=path[-1],
                category_path=path,
                category_name=full_name,
                attributes=attrs,
                price=None if i % 7 == 3 else round(rnd.uniform(5, 120), 2),
                created_at=1_700_000_000.0 + i * 3600,
                flagged=(i % 11 == 5),
            ))
    return docs


def make_vectors(docs: list[IndexDocument], dim: int = DIM, seed: int = 11) -> list[list[float]]:
    rnd = random.Random(seed)
    return [[rnd.uniform(-1, 1) for _ in range(dim)] for _ in docs]


@pytest.fixture(scope="session")
def corpus() -> list[IndexDocument]:
    return make_corpus()


@pytest.fixture(scope="session")
def vectors(corpus: list[IndexDocument]) -> list[list[float]]:
    return make_vectors(corpus)


Opener = Callable[..., Any]


def _lexical_backends() -> list[str]:
    return ["tantivy"] + (["elasticsearch"] if os.environ.get("ELASTICSEARCH_URL") else [])


def _vector_backends() -> list[str]:
    # "qdrant_local" runs the Qdrant server adapter on qdrant-client's local mode (a real in-process
    # implementation of the server API), so that adapter is exercised even without a server.
    return ["qdrant_edge", "qdrant_local"] + (["qdrant_server"] if os.environ.get("QDRANT_URL") else [])


class _Openers:
    """Opens engines of one backend on one location and closes (and drops) them at the end."""

    def __init__(self, backend: str, root: Path) -> None:
        self.backend = backend
        self.root = root
        self.name = f"test_{uuid.uuid4().hex[:12]}"  # index / collection of the server backends
        self.opened: list[Any] = []

    def lexical(self, reopen: bool = False) -> Any:
        if self.backend == "tantivy":
            from indexer.engines.lexical.tantivy import TantivyLexicalEngine

            engine = TantivyLexicalEngine(self.root / "tantivy")
        else:
            from indexer.engines.lexical.elasticsearch import ElasticsearchLexicalEngine

            engine = ElasticsearchLexicalEngine(os.environ["ELASTICSEARCH_URL"], index=self.name)
        self.opened.append(engine)
        return engine

    def vector(self, reopen: bool = False, dim: int = DIM) -> Any:
        if self.backend == "qdrant_edge":
            from indexer.engines.vector.qdrant_edge import QdrantEdgeVectorEngine

            engine = QdrantEdgeVectorEngine(self.root / "qdrant", dim=dim)
        elif self.backend == "qdrant_local":
            from qdrant_client import QdrantClient

            from indexer.engines.vector.qdrant_server import QdrantServerVectorEngine

            path = self.root / "qdrant_local"
            with warnings.catch_warnings():  # "payload indexes have no effect in local mode": expected
                warnings.simplefilter("ignore", UserWarning)
                engine = QdrantServerVectorEngine(f"local:{path}", dim=dim, collection="products",
                                                  client=QdrantClient(path=str(path)))
        else:
            from indexer.engines.vector.qdrant_server import QdrantServerVectorEngine

            engine = QdrantServerVectorEngine(os.environ["QDRANT_URL"], dim=dim, collection=self.name)
        self.opened.append(engine)
        return engine

    def close(self) -> None:
        for engine in self.opened:
            engine.close()
        if self.backend == "elasticsearch":
            from indexer.engines.lexical.elasticsearch import ElasticsearchLexicalEngine

            cleanup = ElasticsearchLexicalEngine(os.environ["ELASTICSEARCH_URL"], index=self.name)
            cleanup.drop_index()
            cleanup.close()
        elif self.backend == "qdrant_server":
            from indexer.engines.vector.qdrant_server import QdrantServerVectorEngine

            cleanup = QdrantServerVectorEngine(os.environ["QDRANT_URL"], dim=DIM, collection=self.name)
            cleanup.drop_collection()
            cleanup.close()


@pytest.fixture(params=_lexical_backends())
def lexical_opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """A fresh, empty lexical engine per test (for write-path tests)."""
    openers = _Openers(request.param, tmp_path)
    yield openers.lexical
    openers.close()


@pytest.fixture(scope="module", params=_lexical_backends())
def loaded_lexical(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                   corpus: list[IndexDocument]) -> Iterator[Any]:
    """One engine per module loaded with the whole corpus (for read-only tests)."""
    openers = _Openers(request.param, tmp_path_factory.mktemp(request.param))
    engine = openers.lexical()
    engine.upsert(corpus)
    engine.commit()
    yield engine
    openers.close()


@pytest.fixture(params=_vector_backends())
def vector_opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    openers = _Openers(request.param, tmp_path)
    yield openers.vector
    openers.close()


@pytest.fixture(scope="module", params=_vector_backends())
def loaded_vector(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  corpus: list[IndexDocument], vectors: list[list[float]]) -> Iterator[Any]:
    openers = _Openers(request.param, tmp_path_factory.mktemp(request.param))
    engine = openers.vector()
    engine.upsert(corpus, vectors)
    engine.commit()
    yield engine
    openers.close()


# Every filter kind, checked against the reference evaluator `indexer.filters.matches`.
FILTER_CASES: dict[str, Filter | None] = {
    "none": None,
    "eq_attr": Eq(field="attr.color", value="color__black"),
    "eq_attr_unknown_value": Eq(field="attr.color", value="color__purple"),
    "in_attr": In(field="attr.color", values=("color__red", "color__blue")),
    "eq_category_root": Eq(field="category", value="aa"),
    "eq_category_mid": Eq(field="category", value="aa-1-13"),
    "eq_category_leaf": Eq(field="category", value="aa-1-13-8"),
    "in_category": In(field="category", values=("aa-1-4", "sg")),
    "eq_vendor": Eq(field="vendor", value="Luma"),
    "in_product_type": In(field="product_type", values=("hoodie", "dress")),
    "eq_tags": Eq(field="tags", value="sale"),
    "in_product_id": In(field="product_id", values=("a001", "a005", "b001")),
    "flagged_true": Eq(field="flagged", value=True),
    "flagged_false": Eq(field="flagged", value=False),
    "range_gte": Range(gte=50),
    "range_lt": Range(lt=30),
    "range_between": Range(gte=20, lte=80),
    "range_gt_and_gte": Range(gt=40, gte=30, lt=90),
    "not_range": Not(filter=Range(lte=60)),  # products without a price are in
    "not_attr": Not(filter=Eq(field="attr.color", value="color__black")),
    "and": And(all=(Eq(field="attr.color", value="color__black"), Range(lte=100))),
    "and_empty": And(all=()),
    "or": Or(any=(Eq(field="attr.fabric", value="fabric__wool"), Eq(field="category", value="aa-8"))),
    "and_or_not": And(all=(Or(any=(Eq(field="category", value="aa-1"), Eq(field="tags", value="eco"))),
                            Not(filter=In(field="attr.color", values=("color__white", "color__red"))))),
    "not_or": Not(filter=Or(any=(Range(gte=100), Eq(field="vendor", value="Acme")))),
    "not_not": Not(filter=Not(filter=Eq(field="attr.fabric", value="fabric__cotton"))),
}


@pytest.fixture(params=list(FILTER_CASES), ids=list(FILTER_CASES))
def filter_case(request: pytest.FixtureRequest) -> Filter | None:
    return FILTER_CASES[request.param]


def expected_ids(corpus: list[IndexDocument], store: str, node: Filter | None) -> set[str]:
    return {d.product_id for d in corpus if d.store == store and matches(node, d)}


@pytest.fixture(scope="session")
def expect() -> Callable[..., set[str]]:
    """The reference answer: ids of the store's documents that `matches` accepts."""
    return expected_ids
