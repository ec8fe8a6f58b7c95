"""Languages: the words, stems and language of a text as the keyword index, the word-overlap rules and the
sentence splitter read them (assistant/language.py)."""

from __future__ import annotations

from assistant import language
from assistant.answer.evidence import split_sentences
from assistant.search.retrieval import fts_query
from assistant.text import Coverage, content_words


def test_the_language_of_a_passage_and_of_a_question() -> None:
    assert language.detect("Der Super Bowl 50 wurde im Levi's Stadium in Santa Clara gespielt.") == "de"
    assert language.detect("¿Dónde se jugó el partido de la final?") == "es"
    assert language.detect("超级碗50在哪里举行？") == "zh"
    assert language.detect("スーパーボウルはどこで開催されましたか") == "ja"
    assert language.detect("Where was the game played?") == "en"
    assert language.detect("Super Bowl 50") == "en"  # too short to tell: English, as the index always read it


def test_unspaced_scripts_are_read_as_character_pairs() -> None:
    assert language.words("超级碗50在哪里举行") == ["超级", "级碗", "50", "在哪", "哪里", "里举", "举行"]
    assert content_words("超级碗在哪里") == ["超级", "级碗", "碗在", "在哪", "哪里"]
    # A passage holding a question's pair of characters is covered by it, wherever the pair sits in a run.
    covered = Coverage({"超级", "级碗", "举行"})
    assert covered("比赛在超级碗体育场举行。") == 1.0
    assert covered("比赛在体育场。") == 0.0


def test_an_english_passage_is_fed_to_the_keyword_index_as_it_is() -> None:
    text = "The maximum line_length is 79 characters (PEP 8), naïve café."
    assert language.index_text(text, "en") == text
    assert language.index_text("The game 超级碗 was played", "en") == "The game  超级 级碗  was played"


def test_another_language_is_fed_as_its_stems() -> None:
    assert language.index_text("Die Spiele wurden gespielt", "de") == "die spiel wurd gespielt"
    assert language.index_text("Las ciudades más grandes", "es") == "las ciudad mas grand"


def test_a_question_is_looked_for_in_its_own_language_and_english() -> None:
    match = fts_query("Welche Spiele wurden in Kalifornien gespielt?", languages=language.question_languages(
        "Welche Spiele wurden in Kalifornien gespielt?"))
    assert '"spiel"' in match and '"spiele"' in match  # the German stem, and the word as English reads it
    assert '"welche"' not in match and '"wurden"' not in match  # German stop words, in either reading
    assert fts_query("Where was the game played?") == '"game" OR "played" OR "game played"'


def test_sentences_end_where_each_language_ends_them() -> None:
    zh = "超级碗50是一场比赛。比赛在李维斯体育场举行！丹佛野马队获胜。"
    assert [s.text for s in split_sentences(zh)] == [
        "超级碗50是一场比赛。", "比赛在李维斯体育场举行！", "丹佛野马队获胜。"]
    de = "Das Spiel fand am 7. Februar 2016 statt. Über 70.000 Zuschauer kamen, z. B. Fans. Ärger gab es nicht."
    assert [s.text for s in split_sentences(de)] == [
        "Das Spiel fand am 7. Februar 2016 statt.", "Über 70.000 Zuschauer kamen, z. B. Fans.", "Ärger gab es nicht."]
    es = "¿Dónde se jugó? ¡En Santa Clara! El estadio es grande."
    assert [s.text for s in split_sentences(es)] == ["¿Dónde se jugó?", "¡En Santa Clara!", "El estadio es grande."]
