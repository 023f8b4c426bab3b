"""The template context is a documented contract: every key a template can use is in
docs/template-context.md, and no diagram text reaches a template raw."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import mermaidgen
from mermaidgen.generate import build

PROJECT = Path(__file__).resolve().parents[1]
DOC = (PROJECT / "docs" / "template-context.md").read_text(encoding="utf-8")
SAMPLES = sorted((PROJECT / "samples").glob("*.mmd"))


def _keys(value, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            found.add(key)
            _keys(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _keys(inner, found)
    return found


def _contexts():
    for path in SAMPLES:
        text = path.read_text(encoding="utf-8")
        diagram = mermaidgen.parse(text, source=path.name)
        for style in ("choreography", "orchestration"):
            yield path.stem, style, build(diagram, text, style=style).context


@pytest.mark.parametrize("style", ["choreography", "orchestration"])
def test_every_context_key_is_documented(style: str) -> None:
    keys: set[str] = set()
    for _, s, context in _contexts():
        if s == style:
            _keys(context, keys)
    documented = set(re.findall(r"`([a-z_0-9]+)`", DOC))
    missing = sorted(keys - documented)
    assert not missing, f"document these keys in docs/template-context.md: {missing}"


def test_no_raw_participant_names_reach_templates() -> None:
    """Names from the diagram reach templates only as `*_lit` or `*_comment` values."""
    raw_names = {"to", "service", "relayed_from", "sender", "receiver", "text", "id",
                 "label"}
    for name, style, context in _contexts():
        leaked = _keys(context, set()) & raw_names
        assert not leaked, f"{name} ({style}): raw keys {leaked} in the context"
