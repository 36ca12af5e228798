"""The question-answering facade used by the CLI and the UI.

`Assistant.stream()` runs one question through the chain and reports progress as events:
rewrite a follow-up into a standalone question → retrieve → answer with the LLM (sources
fitted to the token budget, citations checked) or extractively. Any LLM failure becomes a
notice and the extractive answer; after a failure the LLM is skipped for RETRY_AFTER
seconds so a dead server does not cost a timeout on every question.
`Done.answer` is authoritative: after a mid-stream failure the tokens already sent are
superseded by the fallback answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag import calibration, followup, prompts
from rag.answer import Answer, compose, compose_extract, fit_sources, source_budget
from rag.citations import CachedEncoder
from rag.extractive import extract
from rag.llm import (
    Deadline,
    LLMFailure,
    LLMStatus,
    complete,
    make_chat_model,
    probe,
    stream_text,
)
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.retrieve import Filters

RETRY_AFTER = 30.0  # seconds to skip a failed LLM server
STATUS_TTL = 5.0  # seconds a reachability check is reused


@dataclass(frozen=True)
class Status:
    text: str


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Done:
    answer: Answer


Event = Status | Token | Done


class Assistant:
    """Loads index, embedder, retriever and chat model once; answers many questions."""

    def __init__(self, settings: Settings, index, embedder, retriever, chat_model=None) -> None:
        self.settings = settings
        self.index = index
        self.embedder = embedder
        self.retriever = retriever
        self.chat_model = chat_model
        self._encode = CachedEncoder(embedder.encode_passages)
        self.calibration = calibration.for_model(getattr(embedder, "model_id", ""))
        self._failure: tuple[float, LLMFailure] | None = None
        self._status: tuple[float, LLMStatus] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, index=None, embedder=None, chat_model=None, retriever=None
    ) -> Assistant:
        """Build everything the settings ask for; pass any part in to reuse or replace it."""
        from rag.store import Index

        chat_model = chat_model if chat_model is not None else make_chat_model(settings)
        index = index if index is not None else Index(settings)
        if embedder is None:
            from rag.embeddings import Embedder

            embedder = Embedder.from_settings(settings, built_with=index.embedding_model)
        index.check_model(embedder.model_id, embedder.dimension)
        if retriever is None:
            from rag.retrieve import Retriever

            retriever = Retriever(settings, index, embedder)
        return cls(settings, index, embedder, retriever, chat_model)

    # --- public ----------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        filters: Filters | None = None,
    ) -> Answer:
        """The answer to one question (the last event of `stream`)."""
        for event in self.stream(question, history, filters):
            if isinstance(event, Done):
                return event.answer
        raise RuntimeError("stream ended without an answer")  # pragma: no cover

    def stream(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        filters: Filters | None = None,
    ) -> Iterator[Event]:
        """Progress, answer text as it is written, and finally the checked Answer."""
        question = question.strip()
        notices: list[str] = []
        use_llm = self._llm_usable(notices)
        # one bound for everything the LLM does for this question (RAG_LLM_TOTAL_TIMEOUT)
        deadline = Deadline.after(self.settings.llm_total_timeout)
        standalone = question
        if followup.previous_user_question(history):
            yield Status("Rewriting question…")
            standalone, use_llm = self._rewrite(question, history, use_llm, notices, deadline)
        yield Status(f"Searching {self._article_count()} articles…")
        passages = self.retriever.search(standalone, filters=filters)
        yield Status("Writing answer…")
        if use_llm and passages:
            try:
                answer = yield from self._llm_answer(
                    question, standalone, passages, notices, deadline
                )
            except LLMFailure as failure:
                self._failure = (time.monotonic(), failure)
                notices.append(f"{failure} — showing extractive answer")
                yield Status("The LLM failed — showing extractive answer")
            else:
                yield Done(answer)
                return
        yield Done((yield from self._extractive_answer(question, standalone, passages, notices)))

    def llm_status(self) -> LLMStatus:
        """Backend, model, URL and whether the server answers (cached a few seconds)."""
        now = time.monotonic()
        if self._status and now - self._status[0] < STATUS_TTL:
            return self._status[1]
        if self.chat_model is not None and not self.settings.llm_base_url:
            name = getattr(self.chat_model, "model_name", None) or type(self.chat_model).__name__
            status = LLMStatus("injected", name, None, True, "chat model supplied by the caller")
        else:
            status = probe(self.settings, timeout=min(2.0, self.settings.llm_timeout))
        self._status = (now, status)
        return status

    # --- steps -----------------------------------------------------------------------
    @property
    def _where(self) -> str:
        return self.settings.llm_base_url or type(self.chat_model).__name__

    def _llm_usable(self, notices: list[str]) -> bool:
        if self.chat_model is None:
            return False
        if self._failure:
            since, failure = self._failure
            age = time.monotonic() - since
            if age < RETRY_AFTER:
                notices.append(
                    f"{failure} {age:.0f} s ago — showing extractive answer "
                    f"(retrying after {RETRY_AFTER:.0f} s)"
                )
                return False
            self._failure = None
        return True

    def _rewrite(self, question, history, use_llm, notices, deadline) -> tuple[str, bool]:
        if use_llm:
            try:
                text = complete(
                    self.chat_model,
                    prompts.rewrite_messages(question, history),
                    self._where,
                    deadline,
                )
                cleaned = followup.clean_rewrite(text, question)
                if cleaned:
                    return cleaned, True
            except LLMFailure as failure:
                self._failure = (time.monotonic(), failure)
                notices.append(f"{failure} — showing extractive answer")
                use_llm = False
        return followup.rewrite_deterministic(question, history), use_llm

    def _llm_answer(self, question, standalone, passages, notices, deadline) -> Iterator[Event]:
        language = prompts.detect_language(question)
        fixed = "".join(text for _, text in prompts.answer_messages(standalone, [], language))
        sources = fit_sources(passages, source_budget(self.settings, fixed))
        if not sources:
            raise LLMFailure("the question leaves no room for sources in the LLM context", "budget")
        messages = prompts.answer_messages(standalone, sources, language)
        parts = []
        stream = stream_text(self.chat_model, messages, self._where, deadline)
        for text in stream:
            parts.append(text)
            yield Token(text)
        text = "".join(parts).strip()
        if stream.finish == "length":
            notices.append(
                "the answer was cut off at the length limit "
                f"(RAG_LLM_MAX_TOKENS={self.settings.llm_max_tokens}) — its end is missing"
            )
        elif not stream.complete:
            notices.append(
                f"the LLM server stopped the answer early (finish reason: {stream.finish}) "
                "— its end may be missing"
            )
        answer = compose(
            question=question,
            standalone=standalone,
            text=text,
            mode="llm",
            passages=sources,
            encode=self._encode,
            notices=notices,
            finished=stream.complete,
            calibration=self.calibration,
        )
        if not answer.citations:
            answer.notices.append("the answer cites no source — check it against the sources")
        return answer

    def _extractive_answer(self, question, standalone, passages, notices) -> Iterator[Event]:
        language = prompts.detect_language(question)
        result = extract(
            standalone,
            passages,
            self._encode,
            self.embedder.encode_queries,
            language=language,
            calibration=self.calibration,
        )
        for piece in result.pieces:
            yield Token(piece)
        return compose_extract(
            question=question,
            standalone=standalone,
            extract=result,
            passages=passages,
            encode=self._encode,
            notices=notices,
            calibration=self.calibration,
        )

    def _article_count(self) -> int:
        try:
            return self.index.articles.count()
        except Exception:  # noqa: BLE001 - only a progress label
            return 0
