"""`python -m rag config [--markdown]`: every setting, its variable, value and meaning."""

from __future__ import annotations

from rag.settings import PROJECT_ROOT, Settings

_SECRET = {"llm_api_key"}


def configure(sub) -> None:
    p = sub.add_parser("config", help="show every setting with its environment variable")
    p.add_argument(
        "--markdown", action="store_true", help="a Markdown table of defaults (for the README)"
    )
    p.set_defaults(run=run)


def rows(settings: Settings | None = None) -> list[tuple[str, str, str]]:
    """(variable, value, description) per setting; defaults when `settings` is None."""
    out = []
    for name, field in Settings.model_fields.items():
        if settings is None:
            value = field.default
        else:
            value = getattr(settings, name)
            if name in _SECRET and value:
                value = "****"
        if hasattr(value, "relative_to") and value.is_relative_to(PROJECT_ROOT):
            value = value.relative_to(PROJECT_ROOT)
        shown = "" if value is None else str(value)
        out.append((f"RAG_{name.upper()}", shown, field.description or ""))
    return out


def run(args, settings) -> int:
    if args.markdown:
        print("| variable | default | meaning |")
        print("| --- | --- | --- |")
        for var, value, desc in rows():
            print(f"| `{var}` | {f'`{value}`' if value else '(empty)'} | {desc} |")
        return 0
    for var, value, desc in rows(settings):
        print(f"{var:28} = {value or '(empty)'}\n{'':31}{desc}")
    return 0
