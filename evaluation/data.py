"""The articles and questions of the XQuAD evaluation, and distractor articles.

Each German XQuAD paragraph becomes one Article (`xquad:<article>-<paragraph>`, titled
with its Wikipedia article) and each question is kept in English and German. Distractors
are read by ingest's own readers, so any file or folder `python -m ingest` accepts works
(the 10kGNAD `label;text` CSV is recognised without options) and gets the ids, titles and
cleaning ingest gives it.

Shortcut: XQuAD paragraphs are taken as they are in the JSON (already clean text), not
passed through ingest's cleaning.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.readers import Problem, ReadOptions, read_sources
from rag.errors import UserError
from rag.schema import Article

XQUAD_FILES = {"de": "xquad.de.json", "en": "xquad.en.json"}
XQUAD_SOURCE = "XQuAD"


@dataclass(frozen=True)
class Question:
    """One XQuAD question in both languages, with its gold paragraph and answers."""

    qid: str
    article_id: str
    text: dict[str, str]  # language -> question
    answers: dict[str, tuple[str, ...]]  # language -> gold answer texts


@dataclass
class EvalData:
    articles: list[Article]
    questions: list[Question] = field(default_factory=list)


def xquad_article_id(article_idx: int, para_idx: int) -> str:
    """'xquad:3-2' for paragraph 2 of Wikipedia article 3."""
    return f"xquad:{article_idx}-{para_idx}"


def load_xquad(xquad_dir: Path, limit: int | None = None) -> EvalData:
    """German paragraphs as Articles and the parallel en/de questions (first `limit`)."""
    paths = {lang: Path(xquad_dir) / name for lang, name in XQUAD_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise UserError(
            f"XQuAD files not found: {', '.join(missing)}. Pass the folder that holds "
            "xquad.de.json and xquad.en.json (github.com/google-deepmind/xquad)."
        )
    docs = {}
    for lang, path in paths.items():
        try:
            docs[lang] = json.loads(path.read_text(encoding="utf-8"))["data"]
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(f"{path} is not a SQuAD-format JSON file: {exc}") from None
    articles, questions = [], []
    for a_idx, (de_art, en_art) in enumerate(zip(docs["de"], docs["en"], strict=True)):
        title = str(de_art.get("title", "")).replace("_", " ")
        for p_idx, (de_p, en_p) in enumerate(
            zip(de_art["paragraphs"], en_art["paragraphs"], strict=True)
        ):
            aid = xquad_article_id(a_idx, p_idx)
            articles.append(Article(id=aid, text=de_p["context"], title=title, source=XQUAD_SOURCE))
            en_qas = {q["id"]: q for q in en_p["qas"]}
            for q in de_p["qas"]:
                en_q = en_qas.get(q["id"])
                if en_q is None:
                    continue
                questions.append(
                    Question(
                        qid=q["id"],
                        article_id=aid,
                        text={"de": q["question"], "en": en_q["question"]},
                        answers={
                            "de": tuple(a["text"] for a in q["answers"]),
                            "en": tuple(a["text"] for a in en_q["answers"]),
                        },
                    )
                )
    if limit is not None:
        questions = questions[:limit]
    return EvalData(articles=articles, questions=questions)


def load_distractors(
    paths: Sequence[Path],
    options: ReadOptions | None = None,
    say: Callable[[str], None] = lambda message: None,
) -> list[Article]:
    """Articles from `paths` (files or folders) read as ingest reads them.

    Skipped files and records, and warnings, are reported through `say`; nothing read
    at all is a UserError.
    """
    articles: list[Article] = []
    problems: list[Problem] = []
    for item in read_sources([Path(p) for p in paths], options or ReadOptions()):
        (problems if isinstance(item, Problem) else articles).append(item)
    shown = ", ".join(str(p) for p in paths)
    if not articles:
        why = f" ({problems[0]})" if problems else ""
        raise UserError(
            f"no distractor articles read from {shown}{why}. Pass files or folders that "
            "`python -m ingest` reads, e.g. the 10kGNAD test.csv."
        )
    skipped = sum(p.skipped for p in problems)
    say(
        f"distractors: {len(articles)} articles from {shown}; {skipped} skipped, "
        f"{len(problems) - skipped} warnings"
    )
    for problem in problems[:5]:
        say(f"  {problem}")
    if len(problems) > 5:
        say(f"  … and {len(problems) - 5} more")
    return articles
