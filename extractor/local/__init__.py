"""The `local` CPU extractor (EfficientNet-Lite0, MiniLM, NudeNet, optional rapidocr)."""

from extractor.local.extractor import LocalExtractor

__all__ = ["LocalExtractor"]
