"""Gold-labelled datasets for `extractor.evaluate`."""
