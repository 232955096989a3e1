"""Optional OCR with rapidocr (ONNX models inside the wheel); slow, so off on the real-time path."""

from __future__ import annotations

import threading

import numpy as np
from PIL import Image

_lock = threading.Lock()
_engine = None


def _get_engine():  # noqa: ANN202 - rapidocr has no public type for it
    global _engine
    with _lock:
        if _engine is None:
            from rapidocr import RapidOCR

            _engine = RapidOCR()
        return _engine


def read_text(image: Image.Image, min_score: float = 0.6) -> list[str]:
    result = _get_engine()(np.asarray(image.convert("RGB")))
    texts = getattr(result, "txts", None) or ()
    scores = getattr(result, "scores", None) or ()
    return [t for t, s in zip(texts, scores, strict=False) if s >= min_score]
