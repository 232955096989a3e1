"""A batch's category similarities come from one matrix product, and rank the same as one query at a time; a
batch job's embedder runs MiniLM on every core whatever the extractor set, and leaves the setting as it was."""

from __future__ import annotations

import numpy as np
import torch

from extractor.embeddings import BatchEmbedder, get_text_embedder
from extractor.local.category import get_category_index
from extractor.local.imagenet import set_torch_threads
from taxonomy import Taxonomy

QUERIES = ["Glacier Handmade Purple Transfer Boards & Sheet. The handmade transfer boards from Glacier.",
           "Saltmarsh Cozy Multicolor Joggers. The cozy joggers from Saltmarsh. It is female, cashmere.",
           "Trail running shoe size 9 wide, mesh upper", "Stainless steel chef's knife 8 inch",
           "Organic green tea, 20 bags"]


def test_batched_similarities_rank_as_one_query_at_a_time():
    index = get_category_index(Taxonomy.load())
    vectors = index.embed_queries(QUERIES)
    similarities = index.similarities(vectors)
    assert similarities.shape == (len(QUERIES), len(index.ids))
    for query, vector, row in zip(QUERIES, vectors, similarities, strict=True):
        np.testing.assert_allclose(row, index.matrix @ vector, atol=1e-5)
        alone = index.rank(query, vector, {}, k=5)
        batched = index.rank(query, vector, {}, k=5, similarities=row)
        assert [c.id for c in batched] == [c.id for c in alone]
        assert [c.confidence for c in batched] == [c.confidence for c in alone]


def test_a_batch_embedder_runs_the_model_on_every_core_and_restores_the_setting(monkeypatch):
    embedder = get_text_embedder()
    seen: list[int] = []
    real = embedder._model.encode

    def encode(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(embedder._model, "encode", encode)
    set_torch_threads()  # what the local extractor's warm-up leaves
    before = torch.get_num_threads()
    batch = BatchEmbedder(threads=2)
    vectors = batch.embed(["a batch job's first text", "and its second"])
    assert seen == [2]
    assert torch.get_num_threads() == before
    np.testing.assert_allclose(vectors, embedder.embed(["a batch job's first text", "and its second"]), atol=1e-6)
    embedder.embed(["a server's text, not seen before"])
    assert seen == [2, before]
