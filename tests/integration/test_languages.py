"""Documents in other languages, with the multilingual embedder (./install.sh --multilingual): a German and a
Chinese folder indexed, searched in their own language and in English, and asked about in the chat app, the
answer quoting whole sentences of the document."""

from __future__ import annotations

from pathlib import Path

import pytest

GERMAN = """# Reiserichtlinie

Diese Richtlinie gilt seit dem 7. Februar 2024 für alle Mitarbeiter. Dienstreisen werden vorab von der
Abteilungsleitung genehmigt, z. B. per E-Mail.

## Flüge

Flüge müssen mindestens 14 Tage im Voraus gebucht werden. Die Economy-Klasse ist die Regel; die Business-Klasse
ist erst ab einer Flugdauer von 6 Stunden erlaubt.

## Hotels

Für Übernachtungen gilt eine Obergrenze von 1.500,50 Euro pro Monat. Das Frühstück ist im Zimmerpreis enthalten.

## Verlorene Ausweise

Ein verlorener Firmenausweis wird innerhalb von 24 Stunden beim Empfang gemeldet. Der Ersatz kostet 25 Euro.
"""

CHINESE = """# 员工手册

公司于二〇一九年在深圳成立。员工每年享有十五天带薪年假。年假须提前两周向主管申请。

## 报销

差旅费用须在出差结束后三十天内提交报销。报销单须附上原始发票。

## 办公时间

办公室每天上午九点开门，下午六点关门。周末不办公。
"""

GERMAN_SENTENCE = "Flüge müssen mindestens 14 Tage im Voraus gebucht werden."
CHINESE_SENTENCE = "员工每年享有十五天带薪年假。"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    de, zh = tmp_path / "Richtlinien", tmp_path / "手册"
    de.mkdir()
    zh.mkdir()
    (de / "reisen.md").write_text(GERMAN, encoding="utf-8")
    (zh / "员工手册.md").write_text(CHINESE, encoding="utf-8")
    english = tmp_path / "english"
    english.mkdir()
    (english / "garden.md").write_text("# Garden\n\nTomatoes need six hours of sun a day. Water them in the "
                                       "morning, never at noon.\n", encoding="utf-8")
    return de, zh


@pytest.fixture
def multilingual(home: Path, multilingual_embedder, folders):
    from assistant import Assistant, Settings

    a = Assistant(Settings.load({"embedding_model": "multilingual-e5-small", "answer_style": "quote"}),
                  embedder=multilingual_embedder)
    a.index(list(folders) + [folders[0].parent / "english"])
    yield a
    a.close()


def test_questions_find_their_passages_in_german_and_chinese(multilingual, folders) -> None:
    de, zh = folders
    counts = dict(multilingual.store.conn.execute("SELECT lang, chunks FROM chunk_languages").fetchall())
    assert counts.get("de", 0) >= 1 and counts.get("zh", 0) >= 1 and counts.get("en", 0) >= 1
    hits = multilingual.search("Wie viele Tage vorher muss man einen Flug buchen?", k=3)
    assert hits[0].path == str(de / "reisen.md") and GERMAN_SENTENCE in hits[0].text and hits[0].relevant
    hits = multilingual.search("每年有多少天年假？", k=3)
    assert hits[0].path == str(zh / "员工手册.md") and CHINESE_SENTENCE in hits[0].text and hits[0].relevant
    # Keywords alone find Chinese (character pairs) and German (stems: "Ausweis" in "Ausweise")
    hits = multilingual.search("报销发票", k=3, mode="bm25")
    assert hits and "原始发票" in hits[0].text
    hits = multilingual.search("Ausweis verloren", k=3, mode="bm25")
    assert hits and "Firmenausweis" in hits[0].text


def test_an_english_question_finds_a_german_passage(multilingual, folders) -> None:
    de, _ = folders
    hits = multilingual.search("How many days in advance must flights be booked?", k=3)
    assert hits[0].path == str(de / "reisen.md") and GERMAN_SENTENCE in hits[0].text and hits[0].relevant
    # (English over Chinese is beyond this small model: on XQuAD hit@1 0.45; docs/benchmarks/languages.md)


def test_answers_quote_whole_sentences_in_the_documents_language(multilingual, folders) -> None:
    answer = multilingual.ask("Wie viele Tage im Voraus müssen Flüge gebucht werden?")
    assert answer.grounded and GERMAN_SENTENCE in answer.answer
    assert "7." not in [line.strip() for line in answer.answer.splitlines()]  # "am 7. Februar" is no sentence end
    answer = multilingual.ask("员工每年有多少天带薪年假？")
    assert answer.grounded and CHINESE_SENTENCE in answer.answer
    answer = multilingual.ask("Wie hoch ist die Obergrenze für Übernachtungen pro Monat?")
    assert answer.grounded and "1.500,50 Euro" in answer.answer


@pytest.mark.asyncio
async def test_the_chat_app_answers_in_german_and_chinese(multilingual, folders) -> None:
    from textual.widgets import Input

    from tui.app import AssistantApp
    from tui.widgets import AnswerView, SourceList

    de, zh = folders
    app = AssistantApp(multilingual, watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for question, sentence, path in (("Wie viele Tage im Voraus müssen Flüge gebucht werden?", GERMAN_SENTENCE,
                                          de / "reisen.md"),
                                         ("员工每年有多少天带薪年假？", CHINESE_SENTENCE, zh / "员工手册.md")):
            app.query_one("#question", Input).value = question
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            view = list(app.query(AnswerView))[-1]
            assert sentence in view.text
            assert view.query_one(SourceList).hits[0].path == str(path)
