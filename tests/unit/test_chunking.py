"""The chunker: never over the model's window, structure-following, stable under small edits."""

from __future__ import annotations

from docgen import prose
from hashembed import HashEmbedder

from assistant.ingest.chunking import chunk_document
from assistant.types import Block, Document


def doc(*blocks: Block) -> Document:
    return Document("x.md", "markdown", tuple(blocks))


def test_chunks_never_exceed_the_real_models_window(embedder) -> None:
    # One enormous paragraph with no sentence ends, a long code block, and a very long heading path.
    huge = " ".join(["supercalifragilistic"] * 2000)
    code = "\n".join(f"x{i} = compute({i}, 'value {i}')" for i in range(400))
    heading = tuple("A very long heading that keeps going " * 5 for _ in range(4))
    d = doc(Block(huge, heading=heading, start_line=1, end_line=1),
            Block(code, kind="code", start_line=2, end_line=401))
    chunks = chunk_document(d, embedder)
    real = embedder.count_tokens([c.embed_text for c in chunks])
    assert len(chunks) > 10
    assert max(real) <= embedder.max_tokens == 254
    assert [c.token_count for c in chunks] == real
    # Nothing is lost: every code line appears in some chunk.
    joined = "\n".join(c.text for c in chunks)
    assert all(f"x{i} = compute" in joined for i in range(400))


def test_long_paragraph_pieces_overlap() -> None:
    counter = HashEmbedder(max_tokens=60)
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    chunks = chunk_document(doc(Block(text, start_line=1, end_line=1)), counter, min_tokens=10, overlap=12)
    assert len(chunks) > 3
    for a, b in zip(chunks, chunks[1:], strict=False):
        last_sentence = a.text.split(". ")[-1].rstrip(".")
        assert last_sentence in b.text  # the next piece starts by repeating the end of the previous


def test_headings_and_pages_are_boundaries() -> None:
    counter = HashEmbedder()
    d = Document("x.pdf", "pdf", (
        Block("one two three", page=1), Block("four five", page=2),
        Block("H", kind="heading", level=1), Block("six seven", heading=("H",), page=2),
    ))
    chunks = chunk_document(d, counter, min_tokens=100)
    assert [(c.text, c.page, c.heading) for c in chunks] == [
        ("one two three", 1, None), ("four five", 2, None), ("six seven", 2, "H")]
    assert chunks[2].embed_text == "H\n\nsix seven"


def test_short_paragraphs_merge_and_line_spans_cover_them() -> None:
    counter = HashEmbedder()
    d = doc(*(Block(f"line {i} text", start_line=i * 2 + 1, end_line=i * 2 + 1) for i in range(6)))
    chunks = chunk_document(d, counter, min_tokens=9)
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 5), (7, 11)]


def test_editing_one_paragraph_changes_about_one_chunk(embedder) -> None:
    paras = [prose(i, sentences=4) for i in range(40)]
    before = chunk_document(doc(*(Block(p) for p in paras)), embedder)
    paras[17] = paras[17] + " An extra sentence about a brand new topic."
    after = chunk_document(doc(*(Block(p) for p in paras)), embedder)
    changed = {c.content_hash for c in after} - {c.content_hash for c in before}
    assert len(before) >= 30
    assert len(changed) == 1
