"""The question-answering facade used by the CLI and the UI.

`Assistant.stream()` runs one question through the chain and reports progress as events:
rewrite a follow-up into a standalone question → retrieve → answer with the LLM (sources
fitted to the token budget, citations checked) or extractively. Any LLM failure becomes a
notice and the extractive answer; after a failure the LLM is skipped for RETRY_AFTER
seconds so a dead server does not cost a timeout on every question.
`Done.answer` is authoritative: after a mid-stream failure the tokens already sent are
superseded by the fallback answer.

Sources: the LLM sees only the articles that carry the answer (the articles the
extractive answer would cite, with a looser gap, `LLM_SOURCE_GAP`), each article one
numbered source holding its passages, so one article gets one number in the answer.

Statements: "what did X say" questions go to the statement route first
(`rag.quotes.answer.route`, when that package is installed): its extractive answer is
the answer, and with an LLM its statements are the LLM's sources.

Filters: every Answer records the filters its search ran with. When filters are on, the
same question is also searched without them; the matching articles the filters left out
(those the unfiltered answer would cite) become `Answer.filter_notes`, each naming its
cause: outside the date range, undated (a date filter leaves out undated articles), or
from another source.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag import calibration, followup, prompts
from rag.answer import (
    Answer,
    FilterNote,
    by_article,
    compose,
    compose_extract,
    fit_sources,
    source_budget,
)
from rag.citations import CachedEncoder
from rag.extractive import Extract, extract
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
# The LLM may weigh sources the extractive answer leaves out: an article is its source when
# its best sentence comes within this distance of the best (twice the extractive RELATIVE_CUTOFF,
# instead of the stricter SOURCE_GAP), scaled to the model like the extractive numbers.
LLM_SOURCE_GAP = 0.15


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
        route = self._statement_route(standalone, filters)
        if route is not None:
            answer = yield from self._route_answer(
                route, question, standalone, notices, use_llm, deadline
            )
        else:
            yield Status(f"Searching {self._article_count()} articles…")
            passages = self.retriever.search(standalone, filters=filters)
            yield Status("Writing answer…")
            answer = yield from self._answer(
                question, standalone, passages, notices, use_llm, deadline
            )
        answer.filters = filters if filters is not None and filters.active else None
        if answer.filters is not None:
            answer.filter_notes = self._filter_notes(standalone, answer)
            answer.notices += [note.text for note in answer.filter_notes]
        yield Done(answer)

    def _answer(self, question, standalone, passages, notices, use_llm, deadline):
        """The LLM's answer from `passages`, or the extractive one (also when the LLM fails)."""
        if use_llm and passages:
            sources = self._llm_sources(standalone, passages)
            try:
                return (
                    yield from self._llm_answer(question, standalone, sources, notices, deadline)
                )
            except LLMFailure as failure:
                self._failure = (time.monotonic(), failure)
                notices.append(f"{failure} — showing extractive answer")
                yield Status("The LLM failed — showing extractive answer")
        return (yield from self._extractive_answer(question, standalone, passages, notices))

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

    def _llm_answer(
        self, question, standalone, passages, notices, deadline, speaker: str | None = None
    ) -> Iterator[Event]:
        """The LLM's answer from `passages` (best first), one source per article.

        `speaker`: the passages are statements attributed to this person.
        """
        language = prompts.detect_language(question)
        fixed = "".join(
            text for _, text in prompts.answer_messages(standalone, [], language, speaker=speaker)
        )
        fitted = fit_sources(passages, source_budget(self.settings, fixed))
        if not fitted:
            raise LLMFailure("the question leaves no room for sources in the LLM context", "budget")
        sources = by_article(fitted)
        messages = prompts.answer_messages(standalone, sources, language, speaker=speaker)
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

    def _extract(self, question: str, passages, **options) -> Extract:
        return extract(
            question,
            passages,
            self._encode,
            self.embedder.encode_queries,
            calibration=self.calibration,
            **options,
        )

    def _extractive_answer(self, question, standalone, passages, notices) -> Iterator[Event]:
        result = self._extract(standalone, passages, language=prompts.detect_language(question))
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

    def _llm_sources(self, standalone: str, passages):
        """The passages of the articles that carry the answer, best first; all of them
        when no sentence fits (the LLM then says the sources do not contain it)."""
        gap = LLM_SOURCE_GAP * self.calibration.spread
        found = self._extract(standalone, passages, source_gap=gap)
        if not found.found:
            return passages
        keep = set(found.articles)
        return [p for p in passages if p.article_id in keep]

    # --- statements (issue: who said what) --------------------------------------------
    def _statement_route(self, standalone: str, filters):
        """The statement route's answer plan for "what did X say" questions, else None.

        `rag.quotes.answer.route` is optional: without it every question takes the
        normal path.
        """
        try:
            from rag.quotes.answer import route
        except ImportError:
            return None
        return route(self, standalone, filters)

    def _route_answer(self, route, question, standalone, notices, use_llm, deadline):
        """Extractive: the route's answer. LLM: its statements are the sources."""
        if use_llm and route.passages:
            yield Status("Writing answer…")
            try:
                return (
                    yield from self._llm_answer(
                        question,
                        standalone,
                        route.passages,
                        notices,
                        deadline,
                        speaker=route.speaker,
                    )
                )
            except LLMFailure as failure:
                self._failure = (time.monotonic(), failure)
                notices.append(f"{failure} — showing extractive answer")
                yield Status("The LLM failed — showing extractive answer")
        answer = route.answer
        yield Token(answer.text)
        answer.question, answer.standalone_question = question, standalone
        answer.notices = list(notices) + list(answer.notices)
        return answer

    # --- filters -----------------------------------------------------------------------
    def _filter_notes(self, standalone: str, answer: Answer) -> list[FilterNote]:
        """The matching articles the filters left out, counted by cause."""
        filters = answer.filters
        wider = self.retriever.search(standalone)
        if not wider:
            return []
        found = self._extract(standalone, wider)
        cited = {c.article_id for c in answer.citations}
        first = {}
        for p in wider:
            first.setdefault(p.article_id, p)
        left_out = [first[a] for a in found.articles if a not in cited and a in first]
        return filter_notes(filters, left_out)

    def _article_count(self) -> int:
        try:
            return self.index.articles.count()
        except Exception:  # noqa: BLE001 - only a progress label
            return 0


def filter_notes(filters: Filters, left_out: Sequence) -> list[FilterNote]:
    """Notes for matching articles (`left_out`, one Passage each) the filters excluded.

    An article counts under the first filter that excludes it: another source, then no
    date (any date bound leaves out undated articles), then a date outside the range.
    Articles that pass every filter were not left out by them and are not counted.
    """
    causes: dict[str, int] = {}
    lo, hi = filters.date_from, filters.date_to
    for p in left_out:
        if filters.sources and p.source not in filters.sources:
            cause = "sources"
        elif (lo or hi) and not p.date:
            cause = "undated"
        elif (lo and p.date < lo) or (hi and p.date > hi):
            cause = "date_range"
        else:
            continue
        causes[cause] = causes.get(cause, 0) + 1
    notes = []
    for cause in ("date_range", "undated", "sources"):
        n = causes.get(cause)
        if n:
            notes.append(FilterNote(cause, n, _filter_text(cause, n, filters)))
    return notes


def _filter_text(cause: str, n: int, filters: Filters) -> str:
    """The sentence for one cause.

    >>> from rag.retrieve import Filters
    >>> _filter_text("date_range", 3, Filters("2024-06-01", "2024-06-30"))
    '3 matching articles are outside the date range 2024-06-01–2024-06-30'
    >>> _filter_text("undated", 1, Filters("2024-06-01"))
    '1 matching article has no date and is left out by the date filter'
    """
    articles = f"{n} matching article{'s' if n != 1 else ''}"
    are = "are" if n != 1 else "is"
    if cause == "date_range":
        lo, hi = filters.date_from, filters.date_to
        span = f"{lo}–{hi}" if lo and hi else (f"from {lo}" if lo else f"up to {hi}")
        return f"{articles} {are} outside the date range {span}"
    if cause == "undated":
        have = "have" if n != 1 else "has"
        return f"{articles} {have} no date and {are} left out by the date filter"
    return f"{articles} {are} from other sources than {', '.join(filters.sources)}"
