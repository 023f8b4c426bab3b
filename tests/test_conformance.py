"""Conformance: mermaidgen reads every diagram in tests/conformance/diagrams like mermaid.js.

What mermaid.js 12.3 made of each file is in tests/conformance/expected.jsonl, written by
`python tests/conformance/refresh.py` (which runs mermaid's own parser). For each file:

* valid/      mermaidgen accepts it and its model matches mermaid's: participants, boxes,
              messages, notes, title/config, and the full ordered event stream;
* invalid/    mermaidgen raises DiagramError (nothing else) at the line named by the
              file's first line, `%% error-line: N <reason>`;
              `case-*.mmd` files are written by tests/conformance/case_variants.py: every
              statement form with its keywords' letter case varied, filed by mermaid;
* flattened/  the one purposeful difference (differences.json): a whole diagram on one line
              without `;`. mermaidgen accepts it, warns `flattened-diagram`, and gives the
              same model as its multi-line twin `valid/<name>.multiline.mmd`.

The comparison helpers live in tests/conformance/compare.py, shared with the docs corpus.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conformance.compare import (
    compare,
    decode_placeholders,
    decode_record,
    diff_values,
    without_positions,
)

PROJECT = Path(__file__).resolve().parents[1]
HERE = PROJECT / "tests" / "conformance"
DIAGRAMS = HERE / "diagrams"
REFRESH = "python tests/conformance/refresh.py"
ERROR_LINE = re.compile(r"%% error-line: (\d+) (.+)")


def _load_expected() -> dict[str, dict[str, Any]]:
    path = HERE / "expected.jsonl"
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    return {record["file"]: record for record in map(json.loads, filter(None, lines))}


EXPECTED = _load_expected()
DIFFERENCES: list[dict[str, str]] = json.loads(
    (HERE / "differences.json").read_text(encoding="utf-8")
)


def diagrams(folder: str) -> list[Path]:
    return sorted((DIAGRAMS / folder).glob("*.mmd"))


def key(path: Path) -> str:
    """The file's name in expected.jsonl, e.g. `valid/arrows-solid.mmd`."""
    return path.relative_to(DIAGRAMS).as_posix()


def read(path: Path) -> str:
    """The file exactly as written: BOM, CRLF and lone CR kept (mermaid sees them too)."""
    return path.read_bytes().decode("utf-8")


def source(path: Path) -> str:
    return path.relative_to(PROJECT).as_posix()


def oracle(path: Path) -> dict[str, Any]:
    """mermaid's result for the file, entity placeholders decoded (`ﬂ°°35¶ß` -> `#`)."""
    record = EXPECTED.get(key(path))
    if record is None:
        pytest.fail(f"no mermaid result for {key(path)}: run `{REFRESH}`")
    return decode_record(record, decode_placeholders)


def error_line(path: Path) -> tuple[int, str]:
    """The `%% error-line: N <reason>` an invalid file starts with."""
    match = ERROR_LINE.match(read(path).split("\n", 1)[0])
    assert match, f"{key(path)}: first line must be `%% error-line: N <reason>`"
    return int(match.group(1)), match.group(2).strip()


@pytest.fixture(scope="module")
def api() -> SimpleNamespace:
    """mermaidgen's public API. Imported here rather than at the top so that the data
    checks below still run while the parser is being written."""
    from mermaidgen import parse
    from mermaidgen.errors import DiagramError
    from mermaidgen.model.serialize import to_dict

    return SimpleNamespace(parse=parse, to_dict=to_dict, DiagramError=DiagramError)


def model_of(api: SimpleNamespace, path: Path) -> dict[str, Any]:
    """mermaidgen's JSON model of a diagram it must accept (fails the test if rejected)."""
    try:
        return api.to_dict(api.parse(read(path), source=source(path)))
    except api.DiagramError as err:
        pytest.fail(f"mermaidgen must accept {key(path)}, but rejects it:\n{err}")


# -------------------------------------------------------------------------------------------
# mermaidgen against mermaid.js
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", diagrams("valid"), ids=lambda p: p.name)
def test_valid_diagram(api: SimpleNamespace, path: Path) -> None:
    expected = oracle(path)
    model = model_of(api, path)
    problems = compare(model, expected)
    assert not problems, f"{key(path)}: mermaidgen differs from mermaid.js\n" + "\n".join(problems)


@pytest.mark.parametrize("path", diagrams("invalid"), ids=lambda p: p.name)
def test_invalid_diagram(api: SimpleNamespace, path: Path) -> None:
    line, reason = error_line(path)
    mermaid_error = oracle(path).get("error", "")
    try:
        api.parse(read(path), source=source(path))
    except api.DiagramError as err:
        problem = err.problems[0]
    except Exception as err:  # any other exception is a bug, whatever the input
        pytest.fail(f"{key(path)}: raised {type(err).__name__} instead of DiagramError: {err!r}")
    else:
        pytest.fail(
            f"{key(path)}: mermaidgen accepts it, mermaid rejects it ({reason}):\n{mermaid_error}"
        )
    assert problem.line == line, (
        f"{key(path)} ({reason}): error reported on line {problem.line}, expected line {line}\n"
        f"mermaidgen says: {problem.message}"
    )


@pytest.mark.parametrize("entry", DIFFERENCES, ids=lambda e: Path(e["file"]).name)
def test_flattened_diagram(api: SimpleNamespace, entry: dict[str, str]) -> None:
    path = DIAGRAMS / entry["file"]
    twin = DIAGRAMS / "valid" / f"{path.stem}.multiline.mmd"
    model = model_of(api, path)
    codes = [w.get("code") for w in model.get("warnings", [])]
    assert "flattened-diagram" in codes, (
        f"{key(path)}: no flattened-diagram warning (warnings: {codes})"
    )
    problems = list(diff_values(without_positions(model_of(api, twin)), without_positions(model)))
    assert not problems, (
        f"{key(path)}: model differs from its multi-line twin {key(twin)} "
        "(expected = twin, got = flattened)\n" + "\n".join(problems)
    )


_FLATTENED_KEYWORDS = re.compile(r"\b(participant|actor|as|loop|end|autonumber|Note|over)\b")


@pytest.mark.parametrize(
    "entry",
    [e for e in DIFFERENCES if _FLATTENED_KEYWORDS.search(read(DIAGRAMS / e["file"]))],
    ids=lambda e: Path(e["file"]).name,
)
@pytest.mark.parametrize("spell", [str.upper, str.title], ids=["upper", "title"])
def test_flattened_diagram_keywords_in_any_case(
    api: SimpleNamespace, entry: dict[str, str], spell: Any
) -> None:
    """Recovering a flattened diagram finds its keywords in any letter case, as mermaid's
    lexer does."""
    path = DIAGRAMS / entry["file"]
    text = read(path)
    respelled = _FLATTENED_KEYWORDS.sub(lambda m: spell(m.group()), text)
    assert respelled != text
    expected = without_positions(api.to_dict(api.parse(text)))
    problems = list(diff_values(expected, without_positions(api.to_dict(api.parse(respelled)))))
    assert not problems, f"{key(path)} with keywords respelled:\n" + "\n".join(problems)


# -------------------------------------------------------------------------------------------
# The test data itself (these need no mermaidgen)
# -------------------------------------------------------------------------------------------


def test_expected_covers_every_diagram() -> None:
    files = {key(p) for folder in ("valid", "invalid", "flattened") for p in diagrams(folder)}
    assert files - EXPECTED.keys() == set(), f"diagrams without a mermaid result: run `{REFRESH}`"
    assert EXPECTED.keys() - files == set(), f"results for deleted diagrams: run `{REFRESH}`"


def test_case_variants_are_current() -> None:
    """The `case-*.mmd` files are exactly what case_variants.py writes from its templates
    (after editing a template, rerun it and refresh.py: both need Node)."""
    from conformance.case_variants import PREFIX, all_variants

    written = {}
    for folder in ("valid", "invalid"):
        for path in (DIAGRAMS / folder).glob(f"{PREFIX}*.mmd"):
            text = read(path)
            if folder == "invalid":
                text = text.split("\n", 1)[1]  # below the `%% error-line` comment
            written[path.name] = text
    expected = {name: text for name, (_, text) in all_variants().items()}
    stale = sorted(n for n in written.keys() | expected.keys() if written.get(n) != expected.get(n))
    assert not stale, (
        f"case variants out of date: {stale[:5]}: run `python "
        f"tests/conformance/case_variants.py` and `{REFRESH}`"
    )


def test_folders_agree_with_mermaid() -> None:
    wrong = [
        name
        for name, r in EXPECTED.items()
        if (name.startswith("valid/") and not r["ok"]) or (name.startswith("invalid/") and r["ok"])
    ]
    assert not wrong, f"mermaid disagrees with the folder these diagrams are in: {wrong}"


@pytest.mark.parametrize("path", diagrams("invalid"), ids=lambda p: p.name)
def test_invalid_diagram_names_its_error_line(path: Path) -> None:
    line, _ = error_line(path)
    assert 1 <= line <= max(1, len(read(path).splitlines())), (
        f"{key(path)}: line {line} is outside the file"
    )


def test_differences_are_the_flattened_diagrams() -> None:
    listed = sorted(entry["file"] for entry in DIFFERENCES)
    assert listed == sorted(key(p) for p in diagrams("flattened")), (
        "differences.json must list flattened/ exactly"
    )
    for entry in DIFFERENCES:
        assert entry.get("why"), f"{entry['file']}: say why it differs"
        twin = DIAGRAMS / "valid" / f"{Path(entry['file']).stem}.multiline.mmd"
        assert twin.exists(), f"{entry['file']}: its multi-line twin {key(twin)} is missing"


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("issue ﬂ°°35¶ß5", "issue #5"),
        ("aﬂ°°59¶ß b", "a; b"),
        ("say ﬂ°quot¶ßhiﬂ°quot¶ß", 'say "hi"'),
        ("I ﬂ°°9829¶ß you", "I \u2665 you"),
        ("ﬂ°infin¶ß", "\u221e"),
        ("unknown ﬂ°foo¶ß", "unknown #foo;"),
        ("&amp; stays", "&amp; stays"),
    ],
)
def test_decode_placeholders(raw: str, decoded: str) -> None:
    assert decode_placeholders(raw) == decoded
