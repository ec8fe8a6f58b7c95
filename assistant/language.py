"""Languages: which one a text is written in, and its words as the keyword index and the word-overlap rules
read them, in every script.

- Words: runs of letters and digits, lower-cased. In scripts written without spaces between words (Chinese,
  Japanese, Korean, Thai) a run is read as its overlapping pairs of characters ("超级碗" -> 超级, 级碗), as
  Lucene's CJK analyzer does: a question's pair of characters is found in a passage holding it, with no
  dictionary (docs/benchmarks/languages.md compares this with the alternatives).
- Stems: the Snowball stemmer of the text's language (PyStemmer: about 25 languages), the original Porter
  stemmer for English (what SQLite's FTS5 `porter` tokenizer applies: an index built before languages were
  told apart reads the same), none for the rest; Latin letters lose their diacritics after stemming.
- The language: py3langid (its model ships in the package) over LANGUAGES; a text too short or too mixed to
  tell is English, the default the index always had.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

# Scripts without spaces between words: their runs are read as character pairs.
_UNSPACED = (r"\u0e00-\u0e7f\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
             r"\uf900-\ufaff")
UNSPACED = re.compile(f"[{_UNSPACED}]")
_UNSPACED_RUN = re.compile(f"[{_UNSPACED}]+")
_WORD = re.compile(f"[{_UNSPACED}]+|[^\\W{_UNSPACED}]+")  # an unspaced run, or a run of other word characters

STEMMERS = {"en": "porter", "de": "german", "es": "spanish", "fr": "french", "it": "italian", "pt": "portuguese",
            "nl": "dutch", "sv": "swedish", "da": "danish", "no": "norwegian", "nn": "norwegian", "fi": "finnish",
            "ru": "russian", "ro": "romanian", "hu": "hungarian", "tr": "turkish", "ca": "catalan", "el": "greek",
            "ar": "arabic", "id": "indonesian", "lt": "lithuanian", "ga": "irish", "hy": "armenian", "eu": "basque",
            "cs": "czech", "pl": "polish", "sr": "serbian", "ne": "nepali", "hi": "hindi", "ta": "tamil",
            "fa": "persian"}
# The languages told apart (py3langid knows 97; over all of them short texts scatter among close relatives such as
# Occitan and Luxembourgish, which a library rarely holds) and the probability one needs to be believed over
# English.
LANGUAGES = ("en de es fr it pt nl sv da no fi ru ro hu tr ca el ar id lt ga hy eu cs pl sr ne hi ta fa uk bg he vi "
             "sk sl hr et lv").split()
CONFIDENCE = 0.6
NAMES = {"en": "English", "de": "German", "es": "Spanish", "fr": "French", "it": "Italian", "pt": "Portuguese",
         "nl": "Dutch", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "ru": "Russian",
         "ro": "Romanian", "hu": "Hungarian", "tr": "Turkish", "ca": "Catalan", "el": "Greek", "ar": "Arabic",
         "id": "Indonesian", "cs": "Czech", "pl": "Polish", "uk": "Ukrainian", "bg": "Bulgarian", "he": "Hebrew",
         "vi": "Vietnamese", "hi": "Hindi", "fa": "Persian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
         "th": "Thai"}
MIN_LETTERS = 12  # fewer letters than this: too short to tell (a short question, a heading): English

# The most frequent function words of a few languages besides English (text.STOPWORDS): left out of a
# question's keywords and of word-overlap shares, as English's are.
STOPWORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in {
    "de": """der die das den dem des ein eine einer eines einem einen und oder aber doch ist sind war waren wird
        werden wurde wurden hat haben hatte hatten sein seine ihr ihre es er sie wir ihr ich du nicht auch nur
        noch schon so wie als wenn dass daß ob mit von zu zum zur im in an am auf aus bei für über unter vor nach
        durch um bis seit gegen ohne sich man was wer wo wann warum welche welcher welches wieviel wie viele kann
        können muss müssen soll sollen diese dieser dieses jene dort hier sehr mehr""",
    "es": """el la los las un una unos unas y o pero es son era eran fue fueron ser está están estaba ha han había
        de del al a en con por para sin sobre entre hasta desde que qué quién quiénes cuál cuáles cuándo dónde
        cómo cuánto cuántos cuántas no sí se su sus le les lo me te nos mi tu este esta estos estas ese esa eso
        muy más también como ya cuando donde""",
    "fr": """le la les un une des du de d l et ou mais est sont était étaient été être a ont avait au aux en dans
        sur sous avec pour par sans entre que qui quoi quel quelle quels quelles quand où comment combien pourquoi
        ne pas plus se sa son ses leur leurs ce cet cette ces il elle ils elles nous vous je tu on y très aussi""",
    "it": """il lo la i gli le un uno una e o ma è sono era erano fu stato essere ha hanno aveva di del della dei
        delle al alla ai in nel nella con per su tra fra che chi cosa quale quali quando dove come quanto quanti
        perché non si suo sua suoi sue loro questo questa questi queste quello molto più anche""",
    "pt": """o a os as um uma uns umas e ou mas é são era eram foi foram ser está estão de do da dos das ao aos em
        no na nos nas com por para sem sobre entre que quem qual quais quando onde como quanto quantos porque não
        se seu sua seus suas este esta estes estas esse essa isso muito mais também""",
    "nl": """de het een en of maar is zijn was waren wordt worden werd werden heeft hebben had van in op aan met
        voor door bij naar uit om over onder tot dat die dit deze wat wie waar wanneer hoe hoeveel waarom welke
        niet geen ook nog al zo als er zich hij zij ze wij we jij je ik u hun haar zijn""",
}.items()}


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, an unspaced run as its character pairs (a lone character as itself)."""
    out: list[str] = []
    for run in _WORD.findall(text.lower()):
        if UNSPACED.match(run):
            out += _pairs(run)
        else:
            out.append(run)
    return out


def _pairs(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]


@lru_cache(maxsize=256)
def analyze(text: str, lang: str) -> tuple[tuple[str, str], ...]:
    """(word, the form the keyword index holds) for each word of a text in language `lang`: English words as
    they are (FTS5's porter tokenizer stems them, in the index and in the question alike), another language's
    words as its Snowball stems (folded), an unspaced run's character pairs as they are. Remembered: a search
    reads its question this way up to three times."""
    stem = None if lang == "en" else stemmer(STEMMERS.get(lang, ""))
    return tuple((w, w) if stem is None or UNSPACED.match(w) or len(w) < 3 or len(w) > 64 else (w, fold(stem(w)))
                 for w in words(text))


def index_text(text: str, lang: str) -> str:
    """A passage as the keyword index is fed it (FTS5 `porter unicode61`, store/schema.py migration 13): an
    English passage as it is, but for the unspaced runs in it, read as character pairs (so an English library
    is indexed exactly as it always was); another language's passage as its analyzed words."""
    if lang == "en" or not STEMMERS.get(lang):
        return _UNSPACED_RUN.sub(lambda m: " " + " ".join(_pairs(m.group(0))) + " ", text) if UNSPACED.search(text) \
            else text
    return " ".join(form for _, form in analyze(text, lang))


def fold(text: str) -> str:
    """Latin letters without their diacritics (FTS5's remove_diacritics 2); other scripts as they are."""
    if text.isascii():
        return text
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and out and ord(out[-1]) < 0x250:
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


@cache
def stemmer(algorithm: str):  # -> Callable[[str], str] | None
    """PyStemmer's stemmer of that name as a function (None for ""), safe to call from several threads."""
    if not algorithm:
        return None
    import Stemmer

    stemmer = Stemmer.Stemmer(algorithm)
    lock = threading.Lock()  # a PyStemmer object is not safe across threads

    def stem(word: str) -> str:
        with lock:
            return str(stemmer.stemWord(word))

    return stem


_identifier = None
_identifier_lock = threading.Lock()


@lru_cache(maxsize=512)
def detect(text: str) -> str:
    """The language of a text, as an ISO 639-1 code: "en" when it is too short or too mixed to tell. Text in an
    unspaced script is told by its script: kana "ja", hangul "ko", Thai "th", else "zh"."""
    sample = text[:2000]
    letters = sum(ch.isalpha() for ch in sample)
    unspaced = len(UNSPACED.findall(sample))
    if unspaced and unspaced * 3 >= letters:
        if re.search(r"[\u3040-\u30ff]", sample):
            return "ja"
        if re.search(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]", sample):
            return "ko"
        if re.search(r"[\u0e00-\u0e7f]", sample):
            return "th"
        return "zh"
    if letters < MIN_LETTERS:
        return "en"
    global _identifier
    with _identifier_lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            ident.set_languages(LANGUAGES)
            _identifier = ident
        lang, confidence = _identifier.classify(sample)
    return str(lang) if lang == "en" or confidence >= CONFIDENCE else "en"


def stopwords(lang: str) -> frozenset[str]:
    """The function words of a language (English's: text.STOPWORDS; an empty set for a language without a list)."""
    return STOPWORDS.get(lang, frozenset())


def register(conn: Any) -> None:
    """The SQL functions the keyword index's triggers call (store/schema.py, migration 13): language(text), a
    passage's language, and keywords(text, lang), the text the keyword index is fed."""
    conn.create_function("language", 1, lambda t: detect(t or ""), deterministic=True)  # cached: asked twice
    conn.create_function("keywords", 2, lambda t, lang: index_text(t or "", lang or "en"), deterministic=True)


def question_languages(text: str, library: Iterable[str] = ()) -> list[str]:
    """The languages a question's keywords are analyzed in: its own, English (names and numbers, and an index
    built before languages were told apart), and the library's main languages (a short question is often too
    short to tell)."""
    return list(dict.fromkeys([detect(text), "en", *library]))


def english(*texts: str) -> bool:
    """Whether every text is English (or too short to tell): where the English-only parts may read them (the
    cross-encoder, the rules that know English questions)."""
    return all(detect(t) == "en" for t in texts)
