"""A long-running reader for tests: one Assistant, questions from stdin, answers as JSON.

    python -m tests.ask_loop

Builds one `Assistant` from the environment's settings (as the app does once per
process) and answers every line of stdin with one JSON line: article ids, quotes and
offsets of the citations, or the error's type and message. "?stats" prints the index
statistics instead.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    from rag.assistant import Assistant
    from rag.settings import load_settings

    assistant = Assistant.from_settings(load_settings())
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        try:
            answer = assistant.ask(question)
            out = {
                "ok": True,
                "citations": [
                    {
                        "article_id": c.article_id,
                        "quote": c.quote,
                        "start": c.start,
                        "end": c.end,
                        "version": getattr(c, "version", None),
                    }
                    for c in answer.citations
                ],
                "passages": [p.article_id for p in answer.passages],
            }
        except Exception as exc:  # noqa: BLE001 - reported to the test
            out = {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
