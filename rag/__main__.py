"""`python -m rag stats|config|ask|quotes|speakers|eval|eval-quotes`: look into the index,
see the settings, ask a question, find who said what, measure retrieval and the statement
extractor.

Each subcommand lives in a module with `configure(subparsers)`, which adds its parser and
sets `run(args, settings) -> exit code`; heavy imports stay inside `run`. The library's
own commands are in `rag/commands/`. `eval` and `eval-quotes` are the exceptions to "rag
imports neither ingest nor the edges": they live in the edge package `evaluation` (which
uses ingest) and are dispatched from here only so that `python -m rag eval` stays the
command.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "stats": "rag.commands.stats",
    "config": "rag.commands.config",
    "ask": "rag.commands.ask",
    "quotes": "rag.commands.quotes",
    "speakers": "rag.commands.speakers",
    "eval": "evaluation.command",  # the edge package; see the module docstring
    "eval-quotes": "evaluation.quotes",  # the edge package too
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rag",
        description="Question answering over the news corpus index.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  python -m rag stats --json\n"
            '  python -m rag ask "What did Peskow say about NATO troops?"\n'
            '  python -m rag quotes Peskow --about "NATO troops" --json\n'
            "  python -m rag speakers\n"
            "  python -m rag eval path/to/xquad --json"
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(module).configure(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from rag.errors import run_command

    return run_command(args.run, args)


if __name__ == "__main__":
    sys.exit(main())
