"""The first screen's example questions, drawn from the library's headings (or its file names)."""

from assistant.view.overview import example_questions, question_from


def test_questions_from_headings() -> None:
    assert question_from("How incremental sync works") == "How incremental sync works?"
    assert question_from("The assistant sample library > What assistant is") == "What is assistant?"  # not "...is?"
    assert question_from("Using assistant > Offline by design") == \
        "What does “Using assistant” say about Offline by design?"
    assert question_from("2.1 Sizes and limits") == "What do the documents say about Sizes and limits?"
    for generic in ("Introduction", "References", "attachment memo.pdf of message Budget", "x"):
        assert question_from(generic) is None


def test_three_questions_from_different_documents_or_file_names() -> None:
    heads = [("/a.md", "Alpha > Tides and currents"), ("/a.md", "Alpha > Mooring the boat"),
             ("/b.md", "Pump maintenance schedule"), ("/c.md", "Introduction")]
    qs = example_questions(heads, paths=["/a.md", "/b.md", "/c.md", "/quarterly_report.pdf"])
    assert len(qs) == 3 and len(set(qs)) == 3
    assert "What is in quarterly report?" in qs or "What is in c?" not in qs
    assert any("Mooring the boat" in q or "Tides and currents" in q for q in qs)
    assert example_questions([]) == []
