"""`python -m rag stats|ask|eval`: look into the index, ask a question, measure retrieval.

Each subcommand lives in `rag/commands/<name>.py` with `configure(subparsers)`, which adds
its parser and sets `run(args, settings) -> exit code`. Heavy imports stay inside `run`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("stats", "config", "ask", "eval")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rag",
        description="Question answering over the news corpus index.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  python -m rag stats --json\n"
            '  python -m rag ask "What did Peskow say about NATO troops?"\n'
            "  python -m rag eval path/to/xquad --json"
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"rag.commands.{name}").configure(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from rag.errors import run_command

    return run_command(args.run, args)


if __name__ == "__main__":
    sys.exit(main())
