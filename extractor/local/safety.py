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
NUDITY_THRESHOLD = 0.5
SIZE = 320


class NudityModel:
    def __init__(self) -> None:
        import onnxruntime
        from nudenet import nudenet as nn

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        options.inter_op_num_threads = 1
        path = str(__import__("pathlib").Path(nn.__file__).with_name("320n.onnx"))
        self._session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._post = nn._postprocess
        self._lock = threading.Lock()

    def scores(self, images: list[Image.Image]) -> list[dict[str, float]]:
        """Per image: highest detection score per NudeNet class."""
        out: list[dict[str, float]] = []
        for image in images:
            w, h = image.size
            side = max(w, h)
            canvas = Image.new("RGB", (side, side), (0, 0, 0))
            canvas.paste(image, (0, 0))
            blob = np.asarray(canvas.resize((SIZE, SIZE), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
            blob = blob.transpose(2, 0, 1)[None].copy()
            with self._lock:
                raw = self._session.run(None, {self._input: blob})
            detections = self._post(raw, side - w, side - h, 1, 1, w, h, SIZE, SIZE)
            best: dict[str, float] = {}
            for det in detections:
                best[det["class"]] = max(best.get(det["class"], 0.0), float(det["score"]))
            out.append(best)
        return out


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
