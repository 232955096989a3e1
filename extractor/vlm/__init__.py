"""Vision-language-model extraction: a shared two-stage driver and its backends (openai, lmdeploy).

The backends are imported from their modules (`extractor.vlm.openai_backend`,
`extractor.vlm.lmdeploy_backend`); this package imports nothing heavy.
"""
