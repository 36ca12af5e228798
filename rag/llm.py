"""Chat-model backends: an OpenAI-compatible server, Ollama's native API, or none.

`make_chat_model(settings)` returns a LangChain chat model (None for the extractive
backend). `stream_text()` streams its text and turns every way a server can fail —
refused, timeout, HTTP error, an HTML page instead of the API (`reject_web_page`, a hook
on the HTTP client), unparsable or empty output, a stream that breaks off
without the server's end marker — into `LLMFailure`, whose message is the notice shown
to the user before falling back to the extractive answer. A reply the server itself
ended early (finish reason "length": the token limit) is not a failure; the stream's
`finish` says so and the caller flags the answer.
A `Deadline` (RAG_LLM_TOTAL_TIMEOUT) bounds a whole reply, not just each read: the stream
is then read in a worker thread and abandoned when time is up (the thread stops at the
next chunk, or when the client's own read timeout, RAG_LLM_TIMEOUT, ends the read).
`probe()` is the cheap reachability check behind `Assistant.llm_status()`.

Shortcuts: no retries (max_retries=0): a fallback answer exists, and a retry would double
the wait on a dead server. llama.cpp's server ignores `max_completion_tokens`, which
langchain-openai sends, so `max_tokens` is sent too via `extra_body`.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from rag.errors import UserError
from rag.settings import Settings


class LLMConfigError(UserError):
    """The LLM backend is selected but not configured; the message names the variable."""


class WebPageResponse(Exception):
    """The server sent an HTML page where its API should answer (wrong URL, proxy error)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"an HTML page (HTTP {status}) instead of an API response")
        self.status = status


def reject_web_page(response) -> None:
    """httpx response hook: an HTML page is never an answer; raise WebPageResponse."""
    if "html" in response.headers.get("content-type", "").lower():
        raise WebPageResponse(response.status_code)


class LLMFailure(Exception):
    """The LLM server failed for this request; str() is the notice for the user."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # refused | timeout | http | invalid | empty | error


@dataclass(frozen=True)
class LLMStatus:
    backend: str
    model: str | None
    base_url: str | None
    reachable: bool | None  # None: nothing to reach (extractive backend)
    detail: str


@dataclass(frozen=True)
class Deadline:
    """When (time.monotonic) the LLM must be done with a question: RAG_LLM_TOTAL_TIMEOUT."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def left(self) -> float:
        return self.at - time.monotonic()

    def failure(self, where: str) -> LLMFailure:
        return LLMFailure(
            f"LLM server at {where} did not finish within RAG_LLM_TOTAL_TIMEOUT={self.seconds:g} s",
            "timeout",
        )


def check_config(settings: Settings) -> None:
    """Raise LLMConfigError when openai/ollama lacks a model name or base URL."""
    if settings.llm_backend == "extractive":
        return
    missing = []
    if not settings.llm_model:
        missing.append("RAG_LLM_MODEL (the model name the server knows)")
    if not settings.llm_base_url:
        example = (
            "http://127.0.0.1:11434"
            if settings.llm_backend == "ollama"
            else "http://127.0.0.1:8080/v1"
        )
        missing.append(f"RAG_LLM_BASE_URL (e.g. {example})")
    if missing:
        raise LLMConfigError(
            f"RAG_LLM_BACKEND={settings.llm_backend} needs "
            + " and ".join(missing)
            + ". Set them, or use RAG_LLM_BACKEND=extractive to answer without an LLM."
        )


def ollama_host(base_url: str) -> str:
    """Ollama's native API lives at the host root; accept a `/v1` URL too.

    >>> ollama_host("http://127.0.0.1:11434/v1/")
    'http://127.0.0.1:11434'
    """
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def make_chat_model(settings: Settings):
    """The configured LangChain chat model, or None for the extractive backend."""
    check_config(settings)
    if settings.llm_backend == "openai":
        import httpx
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key or "not-needed",
            timeout=settings.llm_timeout,
            max_retries=0,
            streaming=True,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            extra_body={"max_tokens": settings.llm_max_tokens},
            http_client=httpx.Client(
                timeout=settings.llm_timeout, event_hooks={"response": [reject_web_page]}
            ),
        )
    if settings.llm_backend == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=settings.llm_model,
            base_url=ollama_host(settings.llm_base_url or ""),
            # Ollama's default context is 2,048 tokens and silently cuts longer prompts.
            num_ctx=settings.llm_context_tokens,
            num_predict=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            client_kwargs={"timeout": settings.llm_timeout},
            sync_client_kwargs={"event_hooks": {"response": [reject_web_page]}},
        )
    return None


# Finish reasons of a reply the model ended itself (OpenAI/llama.cpp/vLLM, Ollama, others).
COMPLETE = frozenset({"stop", "eos", "eos_token", "end_turn", "stop_sequence"})


class TextStream:
    """The text chunks of one reply; once iterated, `finish` is how the server ended it.

    `finish` is the server's finish reason ("stop", "length", …). A stream that ends
    without any (no `finish_reason`, no `[DONE]`, no Ollama `done`) broke off: iterating
    raises LLMFailure then, as it does for every other failure.
    """

    def __init__(
        self,
        chat_model,
        messages: Sequence[tuple[str, str]],
        where: str,
        deadline: Deadline | None = None,
    ) -> None:
        self._chat_model = chat_model
        self._messages = list(messages)
        self.where = where
        self.deadline = deadline
        self.finish: str | None = None

    @property
    def complete(self) -> bool:
        """Did the model end the reply itself (not the token limit or a filter)?"""
        return self.finish in COMPLETE

    def __iter__(self) -> Iterator[str]:
        produced = False
        where = self.where
        try:
            for chunk in self._chunks():
                self.finish = finish_reason(chunk) or self.finish
                text = _chunk_text(chunk)
                if text:
                    produced = produced or bool(text.strip())
                    yield text
        except LLMFailure:
            raise
        except Exception as exc:  # noqa: BLE001 - client libraries raise many types
            raise describe_failure(exc, where) from exc
        if not produced:
            raise LLMFailure(f"LLM server at {where} returned an empty answer", "empty")
        if self.finish is None:
            raise LLMFailure(
                f"LLM server at {where} ended before the answer was complete (the stream "
                "stopped without the server's end marker)",
                "truncated",
            )

    def _chunks(self) -> Iterable:
        def open_stream():
            return self._chat_model.stream(self._messages)

        if self.deadline is None:
            return open_stream()
        return _until(open_stream, self.deadline, self.where)


def _until(open_stream: Callable[[], Iterable], deadline: Deadline, where: str) -> Iterator:
    """The items of a blocking stream, read in a worker thread, until `deadline`."""
    if deadline.left() <= 0:
        raise deadline.failure(where)
    items: queue.Queue = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        stream = None
        try:
            stream = open_stream()
            for item in stream:
                items.put((True, item))
                if stop.is_set():
                    break
            items.put((False, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            items.put((False, exc))
        finally:
            with contextlib.suppress(Exception):
                getattr(stream, "close", lambda: None)()  # hang up on the server

    worker = threading.Thread(
        target=contextvars.copy_context().run, args=(work,), name="llm-stream", daemon=True
    )
    worker.start()
    try:
        while True:
            try:
                ok, item = items.get(timeout=max(0.0, deadline.left()))
            except queue.Empty:
                raise deadline.failure(where) from None
            if ok:
                yield item
            elif item is None:
                return
            else:
                raise item
    finally:
        stop.set()


def stream_text(
    chat_model,
    messages: Sequence[tuple[str, str]],
    where: str,
    deadline: Deadline | None = None,
) -> TextStream:
    """Text chunks of the model's reply; any failure raises LLMFailure naming `where`."""
    return TextStream(chat_model, messages, where, deadline)


def complete(
    chat_model,
    messages: Sequence[tuple[str, str]],
    where: str,
    deadline: Deadline | None = None,
) -> str:
    """The whole reply as one string (used for short prompts such as rewriting).

    A reply cut off at the token limit is a failure here: half a question is no question.
    """
    stream = stream_text(chat_model, messages, where, deadline)
    text = "".join(stream).strip()
    if not stream.complete:
        raise LLMFailure(
            f"LLM server at {where} stopped the reply early (finish reason: {stream.finish})",
            "truncated",
        )
    return text


def finish_reason(chunk) -> str | None:
    """The end marker in a streamed chunk's metadata, if this chunk carries one.

    langchain-openai puts the server's `finish_reason` there, langchain-ollama Ollama's
    `done_reason` (with `done: true`).
    """
    meta = getattr(chunk, "response_metadata", None) or {}
    reason = meta.get("finish_reason") or meta.get("done_reason")
    if not reason and meta.get("done") is True:
        reason = "stop"
    return str(reason) if reason else None


def _chunk_text(chunk) -> str:
    content = getattr(chunk, "content", chunk)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return ""


def describe_failure(exc: BaseException, where: str) -> LLMFailure:
    """Classify a client exception into a user-facing LLMFailure."""
    chain = _chain(exc)
    names = " ".join(type(e).__name__ for e in chain)
    text = " ".join(str(e) for e in chain).lower()
    status = next(
        (getattr(e, "status_code", None) for e in chain if getattr(e, "status_code", None)), None
    )
    page = next((e for e in chain if isinstance(e, WebPageResponse)), None)
    if page is not None:
        return LLMFailure(
            f"LLM server at {where} answered with an HTML page (HTTP {page.status}), not an "
            "API response — check RAG_LLM_BASE_URL: it must point at the server's API "
            "(for OpenAI-compatible servers it usually ends in /v1)",
            "http",
        )
    if status:
        return LLMFailure(f"LLM server at {where} failed (HTTP {status})", "http")
    if isinstance_any(chain, ConnectionRefusedError) or "refused" in text:
        return LLMFailure(f"LLM server at {where} unreachable (connection refused)", "refused")
    if "Timeout" in names or "timed out" in text:
        return LLMFailure(f"LLM server at {where} did not answer in time (timeout)", "timeout")
    if "Connect" in names or "connection" in text:
        return LLMFailure(f"LLM server at {where} unreachable (connection error)", "refused")
    if "no generation chunks" in text:  # langchain: the stream carried no message at all
        return LLMFailure(f"LLM server at {where} returned an empty answer", "empty")
    if "JSON" in names or "Decode" in names or "Validation" in names:
        return LLMFailure(f"LLM server at {where} sent a response that is not valid", "invalid")
    first = str(exc).splitlines()[0][:200] if str(exc) else ""
    return LLMFailure(f"LLM server at {where} failed ({type(exc).__name__}: {first})", "error")


def _chain(exc: BaseException) -> list[BaseException]:
    out, seen = [], set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def isinstance_any(chain: list[BaseException], kind: type) -> bool:
    return any(isinstance(e, kind) for e in chain)


def probe(settings: Settings, timeout: float = 2.0) -> LLMStatus:
    """Is the configured server up and does it know the model? One short HTTP GET."""
    backend, model, base = settings.llm_backend, settings.llm_model, settings.llm_base_url
    if backend == "extractive":
        return LLMStatus(backend, None, None, None, "no LLM: answers quote the sources")
    try:
        check_config(settings)
    except LLMConfigError as exc:
        return LLMStatus(backend, model, base, False, str(exc))
    assert base is not None
    url = ollama_host(base) + "/api/tags" if backend == "ollama" else base.rstrip("/") + "/models"
    request = urllib.request.Request(url)
    if settings.llm_api_key:
        request.add_header("Authorization", f"Bearer {settings.llm_api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if "html" in (response.headers.get("Content-Type") or "").lower():
                detail = f"{url} answered with an HTML page, not the API: check RAG_LLM_BASE_URL"
                return LLMStatus(backend, model, base, False, detail)
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return LLMStatus(backend, model, base, False, f"HTTP {exc.code} from {url}")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return LLMStatus(backend, model, base, False, f"unreachable: {reason}")
    known = _model_names(body)
    if known and model not in known and not any(k.startswith(f"{model}:") for k in known):
        return LLMStatus(
            backend,
            model,
            base,
            True,
            f"server up, but it does not list model {model!r} "
            f"(it has: {', '.join(sorted(known)[:5])})",
        )
    return LLMStatus(backend, model, base, True, "server up")


def _model_names(body) -> set[str]:
    items = body.get("data") or body.get("models") or [] if isinstance(body, dict) else []
    names = set()
    for item in items:
        if isinstance(item, dict):
            names.update(str(item[k]) for k in ("id", "name", "model") if item.get(k))
    return names
