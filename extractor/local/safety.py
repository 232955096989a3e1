"""Safety: NudeNet (ONNX, weights inside the wheel) on pixels, plus a keyword check on the listing text."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import numpy as np
from PIL import Image

from extractor.local.datafiles import load_data

NUDITY_CLASSES = frozenset({"FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "FEMALE_BREAST_EXPOSED",
                            "BUTTOCKS_EXPOSED", "ANUS_EXPOSED"})
# Fully clothed studio shots score ~0.5 on the exposed classes; an exposed part scores well above.
NUDITY_THRESHOLD = 0.6
SIZE = 320
DETECTION_MIN_SCORE = 0.25  # NudeNet's own NMS score threshold
# Nudity needs visible skin: an image whose skin-tone pixels (YCbCr box of Chai & Ngan, which is about
# chrominance, so it spans light and dark skin) are under this share skips the detector. Conservative:
# a close-up of exposed skin covers far more than 2% of a photo.
SKIN_GATE = 0.02


class NudityModel:
    def __init__(self) -> None:
        import onnxruntime
        from nudenet import nudenet as nn

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # the extractor runs one worker per core
        options.inter_op_num_threads = 1
        path = str(__import__("pathlib").Path(nn.__file__).with_name("320n.onnx"))
        self._session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._labels: list[str] = list(getattr(nn, "__labels"))  # noqa: B009 - a module-level dunder

    def scores(self, images: list[Image.Image], gate: bool = True) -> list[dict[str, float]]:
        """Per image: highest detection score per NudeNet class ({} for images without enough skin)."""
        out: list[dict[str, float]] = []
        for image in images:
            if gate and skin_share(image) < SKIN_GATE:
                out.append({})
                continue
            w, h = image.size
            side = max(w, h)
            canvas = Image.new("RGB", (side, side), (0, 0, 0))
            canvas.paste(image, (0, 0))
            blob = np.asarray(canvas.resize((SIZE, SIZE), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
            blob = blob.transpose(2, 0, 1)[None].copy()
            raw = self._session.run(None, {self._input: blob})  # InferenceSession.run is thread-safe
            out.append(self._best_per_class(raw[0]))
        return out

    def _best_per_class(self, output: np.ndarray) -> dict[str, float]:
        """What NudeNet's postprocess + NMS would report as each class's highest score, vectorised: NMS
        always keeps the highest-scoring box of a class, so only the per-class maximum is needed."""
        anchors = np.squeeze(output).T  # (anchors, 4 box + classes)
        cls_scores = anchors[:, 4:]
        winner = cls_scores.argmax(1)
        top = cls_scores[np.arange(len(cls_scores)), winner]
        best: dict[str, float] = {}
        for cls in np.unique(winner[top >= DETECTION_MIN_SCORE]):
            best[self._labels[int(cls)]] = float(top[winner == cls].max())
        return best


def skin_share(image: Image.Image, side: int = 64) -> float:
    """Share of skin-tone pixels in a small thumbnail."""
    from extractor.local.colors import _skin_mask

    small = image.copy()
    small.thumbnail((side, side), Image.Resampling.NEAREST)
    return float(_skin_mask(np.asarray(small, dtype=np.uint8)).mean())


_lock = threading.Lock()
_model: NudityModel | None = None


def get_nudity_model() -> NudityModel:
    global _model
    with _lock:
        if _model is None:
            _model = NudityModel()
        return _model


def nudity_verdict(scores: dict[str, float], threshold: float = NUDITY_THRESHOLD) -> bool:
    return any(scores.get(c, 0.0) >= threshold for c in NUDITY_CLASSES)


@lru_cache(maxsize=1)
def _keyword_patterns() -> list[tuple[str, re.Pattern[str]]]:
    table = load_data("safety_keywords.json")["reasons"]
    return [(reason, re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I))
            for reason, words in table.items()]


def text_reasons(text: str) -> list[str]:
    return [reason for reason, pattern in _keyword_patterns() if pattern.search(text or "")]
