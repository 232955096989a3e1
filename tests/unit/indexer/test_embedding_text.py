"""The product embedding text: short enough for MiniLM's 128-token training length, the description's opening."""

from __future__ import annotations

from indexer.documents import EMBEDDED_DESCRIPTION_CHARS, IndexDocument, opening


def test_opening_keeps_whole_sentences_that_fit():
    text = "Soft cotton tee. Cut for a relaxed fit with dropped shoulders. Machine wash cold, tumble dry low."
    assert opening(text, 70) == "Soft cotton tee. Cut for a relaxed fit with dropped shoulders."
    assert opening(text, 500) == text
    assert opening("  a   b  ", 10) == "a b"


def test_opening_cuts_a_long_first_sentence_at_a_word():
    text = "A " + "very " * 40 + "long sentence."
    cut = opening(text, 50)
    assert len(cut) <= 50 and text.startswith(cut) and not cut.endswith(" ") and cut.endswith("very")


def test_embedding_text_holds_the_description_opening_only():
    description = "Zip hoodie in brushed fleece. " + "Extra words about care and shipping. " * 20
    doc = IndexDocument(store="s", product_id="p", title="Zip Hoodie", description=description,
                        category_name="Apparel & Accessories > Clothing > Hoodies")
    text = doc.embedding_text()
    assert text.startswith("Zip Hoodie. Hoodies. Zip hoodie in brushed fleece.")
    assert len(text) < len("Zip Hoodie. Hoodies. ") + EMBEDDED_DESCRIPTION_CHARS + 2
