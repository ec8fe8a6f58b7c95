"""Asking: a question's walk from the search to the answer kept in its conversation.

    question -> [the answer cache] -> search (with the conversation's named documents, and the previous
    question for a follow-up) -> chat.answer_question -> the conversation -> [the answer cache]

The search is handed in (answers use search's results, never its internals), and so are the models, loaded
on first use: a question the cache answers, or one nothing in the library is about, loads no chat model.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.answer.cache import cache_key, from_cache, model_fingerprint
from assistant.answer.chat import SourcesFn, answer_question, sources_json
from assistant.answer.conversations import Conversations
from assistant.answer.generation import Generator, capable
from assistant.answer.prompts import Example, load_examples
from assistant.config import Settings
from assistant.errors import AssistantError, EmptyQueryError
from assistant.store.protocol import LibraryStore
from assistant.types import Answer, Embedder, Hit

SearchFn = Callable[..., list[Hit]]
"""search(question, k=, filters=, rerank=, named=) -> passages, as Assistant.search."""


class Answerer:
    """Answers questions over one index.

    Args:
        search: the search (Assistant.search); `named` and `merge` its named-documents look-up and the merge of
            two passage lists.
        store: this thread's store. settings: the whole Settings (the answer, search and models groups shape an
            answer and its cache key). generator, embedder: the models, loaded on first use. given: a generator
            handed in (it keys the cache by itself). support: the cross-encoder as the judge reads it, or None.
        answering: the context in which indexing, in every process, steps aside (store/locks.answering).
        readonly: nothing is saved (the MCP server).
    """

    def __init__(self, search: SearchFn, named: Callable[[str], list[str]],
                 merge: Callable[[list[list[Hit]], int], list[Hit]], store: Callable[[], LibraryStore],
                 settings: Callable[[], Settings], generator: Callable[[], Generator], embedder: Callable[[], Embedder],
                 given: Callable[[], Generator | None], support: Callable[[], Any],
                 answering: Callable[[], contextlib.AbstractContextManager[None]], readonly: bool = False) -> None:
        self._search, self._named, self._merge = search, named, merge
        self._store, self._settings, self._generator, self._embedder = store, settings, generator, embedder
        self._given, self._support, self._answering, self.readonly = given, support, answering, readonly
        self.conversations = Conversations(store)
        self._examples: tuple[Any, list[Example]] | None = None  # (file, size, mtime) and its examples

    def ask(self, question: str, chat_id: str | None = None, filters: Any = None, k: int | None = None,
            on_token: Callable[[str], None] | None = None, cancel: threading.Event | None = None, save: bool = True,
            on_sources: SourcesFn | None = None) -> Answer:
        """See Assistant.ask."""
        if not question or not question.strip():
            raise EmptyQueryError("the question is empty; type a question about your documents")
        question = question.strip()
        settings, store = self._settings(), self._store()
        save = save and not self.readonly
        history: list[tuple[str, str]] = []
        if chat_id is not None:
            if store.chat(chat_id) is None:
                raise AssistantError(f"no conversation with id {chat_id!r}; `assistant chats` lists them")
            history = self.conversations.history(chat_id)
        k = k or settings.search.k
        examples = self.examples()
        # A follow-up's answer depends on its conversation: only first questions are cached.
        key = cache_key(question, k, filters, settings, examples, model_fingerprint(settings, self._given())) \
            if settings.answer.cache and not history else None
        cached = store.cached_answer(key) if key else None
        hits = [] if cached is not None else self._passages(question, history, k, filters, settings.answer.rerank)
        if chat_id is None and save:
            chat_id = store.create_chat(" ".join(question.split())[:80])
        if save and chat_id:
            store.add_question(chat_id, question)
        if cached is not None:
            answer = from_cache(cached, chat_id or "", on_token)
            if on_sources:
                on_sources(answer.sources, answer.evidence, answer.direct_answer)
        else:
            with self._answering():
                answer = answer_question(
                    self._generator, self._embedder(), question, hits, history, chat_id or "", settings.answer,
                    on_token=on_token, cancel=cancel, examples=examples, on_sources=on_sources,
                    support=self._support(), rarity=store.rarity,
                    share=lambda fact, paths: store.phrase_share([fact], paths),
                    capable=lambda generator: capable(generator, settings.answer.direct),
                )
        if save and chat_id:
            store.add_answer(chat_id, answer.answer, answer.grounded, sources_json(answer))
        stopped = cancel is not None and cancel.is_set()
        if key and cached is None and not self.readonly and not stopped and any(h.relevant for h in hits) \
                and not store.pending_count():
            # Refusals are not kept (a document added later may answer them), nor answers computed while
            # vectors are still missing (the search will find more once they exist).
            entry = {name: value for name, value in answer.to_dict().items() if name != "chat_id"}
            store.cache_answer(key, question, entry, sorted({h.chunk_id for h in hits}))
        return answer

    def _passages(self, question: str, history: list[tuple[str, str]], k: int, filters: Any,
                  top: int) -> list[Hit]:
        """The passages an answer reads: the question's, reordered by the cross-encoder (`top`, setting [answer]
        rerank), indexing stepping aside meanwhile (the cross-encoder is the costly part of a search)."""
        with self._answering() if top else contextlib.nullcontext():
            # A follow-up ("and about indentation?") goes on about the documents the previous question named
            # ("What does PEP 8 say about line length?"), unless it names others.
            before = self._named(history[-1][0]) if history else []
            hits = self._search(question, k=k, filters=filters, rerank=top, named=before)
            if history:  # a follow-up ("and who won it?") is searched together with the previous question too
                context = f"{history[-1][0]} {question}"
                hits = self._merge([hits, self._search(context, k=k, filters=filters, rerank=top)], k)
        return hits

    def examples(self) -> list[Example]:
        """The few-shot examples of the examples file (setting [answer] examples_file), re-read when it changes.

        Raises:
            ConfigError: a line of the file is not an example object.
        """
        settings = self._settings()
        name = Path(str(settings.answer.examples_file or "")).expanduser()
        path = name if name.is_absolute() else settings.paths.config_dir / name
        try:
            st = path.stat()
        except OSError:
            return []
        key = (str(path), st.st_size, st.st_mtime_ns)
        if self._examples is None or self._examples[0] != key:
            self._examples = (key, load_examples(path))
        return self._examples[1]
