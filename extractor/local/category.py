"""Category retrieval: MiniLM embeddings of every taxonomy category path (shipped precomputed, see
category_embeddings),
lexical scores from the taxonomy's category search, and image evidence from ImageNet labels."""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from extractor.local import category_embeddings as embeddings_file
from extractor.local.datafiles import load_data
from taxonomy import Taxonomy

log = logging.getLogger(__name__)

W_EMBED = 1.0
W_LEXICAL = 0.35
W_IMAGE = 0.6
TEMPERATURE = 0.04
# The photo's vertical: when the mapped ImageNet evidence puts most of its mass in one top-level vertical
# (Apparel, Luggage & Bags, Food...), text candidates from other verticals are scaled down. A photo of a
# pair of trousers is not a pant suit pattern, a taco shell or a parachute, whatever the title's words say.
VERTICAL_MIN_MASS = 0.25
VERTICAL_MIN_SHARE = 0.6
VERTICAL_FACTOR = 0.85
# How much the title names a product kind, from its best raw category-name match (taxonomy search: a kind
# word or synonym such as "tee" or "duffle" scores 15-40, a word every tenth category has, like "kit",
# "pack" or "classic", scores under 8). A title that names no kind ("Summit Kit", "The Classic", a brand)
# is weak evidence: its lexical credit shrinks, the photo weighs more, and candidates from a vertical the
# photo contradicts lose in proportion to the photo's mass in its own vertical.
KIND_SCORE_WEAK = 4.0
KIND_SCORE_STRONG = 12.0
W_CONTRADICT = 1.0
IMAGE_BOOST = 2.0


def default_cache_dir() -> Path:
    return Path(os.environ.get("CATALOG_CACHE_DIR", Path.home() / ".cache" / "catalog-intelligence"))


@dataclass(frozen=True)
class ScoredCategory:
    id: str
    score: float
    confidence: float


class CategoryIndex:
    """Category path embeddings for one taxonomy version: the shipped ones, else built once per cache dir."""

    def __init__(self, taxonomy: Taxonomy, cache_dir: Path | None = None) -> None:
        from extractor.embeddings import get_text_embedder

        self.taxonomy = taxonomy
        self.ids = embeddings_file.category_rows(taxonomy)
        self._row = {cid: i for i, cid in enumerate(self.ids)}
        self.embedder = get_text_embedder()
        names = embeddings_file.descriptions(taxonomy)
        key = embeddings_file.key_for(taxonomy, names, self.embedder.name, self.embedder.dim)
        # Shipped with the package for the bundled taxonomy; anything else is embedded once into the cache.
        matrix = embeddings_file.load(embeddings_file.shipped_path(), key)
        if matrix is None:
            matrix = self._load_or_build((cache_dir or default_cache_dir()) / embeddings_file.cache_file_name(key),
                                         names)
        self.matrix = matrix
        self._priors = np.array([self._prior_factor(cid) for cid in self.ids], dtype=np.float32)
        # Per prior rule: which rows it demotes (so lifting a rule for a listing is one vector op).
        fulls = [taxonomy.category(cid).full_name for cid in self.ids]
        self._rule_rows = [np.array([rule["contains"] in f for f in fulls]) for rule in _priors()]
        self._with_attribute: dict[str, list[str]] = {}  # attribute handle -> the categories that have it

    def _load_or_build(self, path: Path, names: list[str]) -> np.ndarray:
        if path.exists():
            try:
                matrix = np.load(path, mmap_mode="r")
                if matrix.shape == (len(names), self.embedder.dim):
                    return np.asarray(matrix, dtype=np.float32)
            except (OSError, ValueError):
                log.warning("category embedding cache %s unreadable; rebuilding", path)
        log.warning("embedding %d taxonomy categories (about a minute, once; cached at %s)", len(names), path)
        matrix = self.embedder.embed(names, batch_size=128)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, matrix)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only home still works, just slower on the next start
            log.warning("cannot cache category embeddings at %s: %s", path, exc)
        return matrix

    def _prior_factor(self, cid: str) -> float:
        full = self.taxonomy.category(cid).full_name
        factor = 1.0
        for rule in _priors():
            if rule["contains"] in full:
                factor *= float(rule["factor"])
        return factor

    def _priors_for_text(self, text: str) -> np.ndarray:
        words = set(re.findall(r"[a-z]+", text.lower()))
        lifted = [i for i, r in enumerate(_priors()) if words & set(r["unless"])]
        if not lifted:
            return self._priors
        priors = self._priors.copy()
        for i in lifted:
            priors[self._rule_rows[i]] /= float(_priors()[i]["factor"])
        return priors

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)

    def similarities(self, query_vectors: np.ndarray) -> np.ndarray:
        """Each query's cosine to every category (one row per query), for `rank(similarities=...)`. One matrix
        product for a batch reads the 16 MB category matrix once; a product at a time read it per product and
        was a tenth of extraction's time in a batch index (benchmarks/NOTES.md section 13)."""
        return np.asarray(query_vectors, dtype=np.float32) @ self.matrix.T

    def embed_batch(self, queries: list[str]) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """By position of each non-empty query: its vector and its `similarities` row, for `rank`."""
        nonempty = [i for i, q in enumerate(queries) if q.strip()]
        if not nonempty:
            return {}, {}
        vectors = self.embed_queries([queries[i] for i in nonempty])
        rows = self.similarities(vectors)
        return ({i: vectors[j] for j, i in enumerate(nonempty)}, {i: rows[j] for j, i in enumerate(nonempty)})

    def rank(self, text: str, query_vector: np.ndarray | None, image_evidence: dict[str, float],
             k: int = 5, store_scores: dict[str, float] | None = None,
             sized_by: str | None = None, similarities: np.ndarray | None = None) -> list[ScoredCategory]:
        """Top-k categories with softmax confidences over the candidate set. `sized_by`: the listing gives a
        size only this attribute's categories have (a shoe size with its width), so they alone compete.
        `similarities`: this query's row of `similarities()`, when a batch computed them together."""
        scores: dict[str, float] = {}
        strength = 0.0  # how much the text names a product kind (see KIND_SCORE_*)
        if query_vector is not None and text.strip():
            sims = self.matrix @ query_vector if similarities is None else similarities
            sims = sims * self._priors_for_text(text)
            top = np.argpartition(-sims, 40)[:40]
            for i in top:
                scores[self.ids[int(i)]] = W_EMBED * float(sims[i])
            lexical = self.taxonomy.search_categories(text, 15)
            if lexical:
                best = max(m.score for m in lexical) or 1.0
                strength = kind_strength(best)
                for m in lexical:
                    base = scores.get(m.category_id)
                    if base is None:
                        base = W_EMBED * float(self.matrix[self._row[m.category_id]] @ query_vector)
                    scores[m.category_id] = base + W_LEXICAL * strength * m.score / best
        candidates = set(image_evidence)
        for cid, p in image_evidence.items():  # the photo's category family joins the candidates
            parent = self.taxonomy.category(cid).parent_id if cid in self._row else None
            if p >= 0.1 and parent:
                candidates.update(self.taxonomy.category(parent).children_ids)
        for cid in candidates:
            if cid not in scores and cid in self._row:
                base = 0.0
                if query_vector is not None and text.strip():
                    base = W_EMBED * float(self.matrix[self._row[cid]] @ query_vector)
                scores[cid] = base
        if image_evidence:
            # Against a title that names no kind, a fainter photo still tells the vertical.
            vertical = photo_vertical(image_evidence, min_mass=VERTICAL_MIN_MASS * strength)
            contradiction = W_CONTRADICT * vertical_mass(image_evidence, vertical) * (1.0 - strength)
            w_image = W_IMAGE * (1.0 + IMAGE_BOOST * (1.0 - strength))
            for cid in list(scores):
                if vertical and _vertical(cid) != vertical:
                    scores[cid] = scores[cid] * VERTICAL_FACTOR - contradiction
                scores[cid] += w_image * self._image_support(cid, image_evidence)
        if store_scores:
            for cid, p in store_scores.items():
                if cid in self._row:
                    scores[cid] = scores.get(cid, 0.0) + p
        if sized_by:
            scores = self._sized_by(sized_by, scores, text, query_vector)
        if not scores:
            return []
        ids = list(scores)
        values = np.array([scores[c] for c in ids], dtype=np.float64)
        probs = np.exp((values - values.max()) / TEMPERATURE)
        probs /= probs.sum()
        order = np.argsort(-values)[:k]
        return [ScoredCategory(ids[i], round(float(values[i]), 4), round(float(probs[i]), 4)) for i in order]

    def _sized_by(self, attribute: str, scores: dict[str, float], text: str,
                  query_vector: np.ndarray | None) -> dict[str, float]:
        """The scores of the categories that have `attribute`, each of them a candidate."""
        allowed = self._with_attribute.get(attribute)
        if allowed is None:
            allowed = [cid for cid in self.ids if attribute in self.taxonomy.category(cid).attribute_handles]
            self._with_attribute[attribute] = allowed
        out = {cid: scores[cid] for cid in allowed if cid in scores}
        for cid in allowed:
            if cid not in out:
                out[cid] = (W_EMBED * float(self.matrix[self._row[cid]] @ query_vector)
                            if query_vector is not None and text.strip() else 0.0)
        return out

    def _image_support(self, cid: str, evidence: dict[str, float]) -> float:
        """Image evidence for cid: full for the same category, less for relatives (a sweatshirt photo
        supports 'Hoodies', its sibling)."""
        best = 0.0
        lineage = _lineage(self.taxonomy, cid)
        for eid, p in evidence.items():
            other = _lineage(self.taxonomy, eid)
            if eid == cid:
                rel = 1.0
            elif eid in lineage or cid in other:
                rel = 0.7
            else:
                common = len(os.path.commonprefix([lineage, other]))
                depth = max(len(lineage), len(other))
                if common >= 2 and common >= depth - 1:
                    rel = 0.5
                elif common >= 2 and common >= depth - 2:
                    rel = 0.3
                else:
                    rel = 0.15 if common >= 2 else (0.05 if common == 1 else 0.0)
            best = max(best, p * rel)
        return best


def _vertical(cid: str) -> str:
    return cid.split("-", 1)[0]


def kind_strength(best_lexical: float) -> float:
    """0 for a title that names no product kind, 1 for one that clearly does (see KIND_SCORE_*)."""
    return float(np.clip((best_lexical - KIND_SCORE_WEAK) / (KIND_SCORE_STRONG - KIND_SCORE_WEAK), 0.0, 1.0))


def vertical_mass(evidence: dict[str, float], vertical: str | None) -> float:
    """The image evidence's mass in one vertical (0 when the photo names none)."""
    return sum(p for cid, p in evidence.items() if _vertical(cid) == vertical) if vertical else 0.0


def photo_vertical(evidence: dict[str, float], min_mass: float = VERTICAL_MIN_MASS) -> str | None:
    """The top-level vertical most of the image evidence points to, when it clearly points to one."""
    mass: dict[str, float] = {}
    for cid, p in evidence.items():
        mass[_vertical(cid)] = mass.get(_vertical(cid), 0.0) + p
    if not mass:
        return None
    total = sum(mass.values())
    best = max(mass, key=mass.__getitem__)
    return best if mass[best] >= min_mass and mass[best] >= VERTICAL_MIN_SHARE * total else None


@lru_cache(maxsize=4096)
def _lineage(taxonomy: Taxonomy, cid: str) -> tuple[str, ...]:
    """Root-first ids from the vertical down to cid. Taxonomy hashes by identity."""
    return tuple(c.id for c in taxonomy.ancestors(cid)) + (cid,)


@lru_cache(maxsize=1)
def _priors() -> list[dict]:
    return list(load_data("category_priors.json")["subtrees"])


_index_lock = threading.Lock()
_indexes: dict[tuple[str, str], CategoryIndex] = {}


def get_category_index(taxonomy: Taxonomy, cache_dir: Path | None = None) -> CategoryIndex:
    key = (taxonomy.version, str(cache_dir or default_cache_dir()))
    with _index_lock:
        if key not in _indexes:
            _indexes[key] = CategoryIndex(taxonomy, cache_dir)
        return _indexes[key]
