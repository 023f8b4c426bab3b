"""The JSON writer of `preview --format json`: the C encoder's output, laid out by line."""

from __future__ import annotations

import json
import subprocess
import sys

from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import diagrams

from mermaidgen.model import serialize
from mermaidgen.model.serialize import dump, dumps

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) \
    | st.text()
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                         max_leaves=30)


@given(DOCUMENTS)
def test_laid_out_and_compact_documents_read_back_as_written(document) -> None:
    assert json.loads(dumps(document)) == document
    compact = dumps(document, compact=True)
    assert json.loads(compact) == document
    assert "\n" not in compact


def test_records_of_scalars_take_one_line_and_containers_one_line_per_member() -> None:
    document = {"version": 1, "statements": [
        {"type": "message", "text": "a\nb", "participants": ["A", "B"]},
        {"type": "block", "sections": [{"label": "x", "statements": []}]}]}
    assert dumps(document).splitlines() == [
        "{",
        '  "version": 1,',
        '  "statements": [',
        '    {"type": "message", "text": "a\\nb", "participants": ["A", "B"]},',
        "    {",
        '      "type": "block",',
        '      "sections": [',
        '        {"label": "x", "statements": []}',
        "      ]",
        "    }",
        "  ]",
        "}",
    ]


def test_preview_json_options_compact_and_without_analysis(tmp_path) -> None:
    source = tmp_path / "d.mmd"
    source.write_text("sequenceDiagram\n    A->>B: hi\n")

    def preview(*options: str) -> str:
        return subprocess.run([sys.executable, "-m", "mermaidgen", "preview", str(source),
                               "--format", "json", *options], capture_output=True,
                              text=True, check=True).stdout

    full, compact = preview(), preview("--compact")
    assert json.loads(full) == json.loads(compact)
    assert compact.count("\n") == 1 and full.count("\n") > 10
    model = json.loads(preview("--diagram-only", "--compact"))
    assert "analysis" not in model
    assert model == {k: v for k, v in json.loads(full).items() if k != "analysis"}


def test_preview_json_has_the_projections_only_on_request(tmp_path) -> None:
    # the two projections are most of the analysis' document (a 100k-message diagram:
    # about 8 of its 13 compact megabytes per 10k messages), so they are printed only
    # when asked for; everything else is the same document
    source = tmp_path / "d.mmd"
    source.write_text("sequenceDiagram\n    A->>+B: Ask\n    B-->>-A: Answer\n")

    def preview(*options: str) -> dict:
        return json.loads(subprocess.run(
            [sys.executable, "-m", "mermaidgen", "preview", str(source), "--format", "json",
             "--compact", *options], capture_output=True, text=True, check=True).stdout)

    plain, projected = preview(), preview("--projections")
    assert set(projected["analysis"]) - set(plain["analysis"]) == {"choreography",
                                                                   "orchestration"}
    assert projected["analysis"]["orchestration"]["orchestrator"] == "A"
    projected["analysis"].pop("choreography")
    projected["analysis"].pop("orchestration")
    assert plain == projected


RECORDS = st.lists(st.dictionaries(
    st.text(max_size=4), st.none() | st.integers() | st.text() | st.just({})
    | st.lists(st.text(max_size=3) | st.integers(), max_size=3), max_size=4), max_size=5)


@given(RECORDS)
@example([{"a": "x}, {y", "b": {}}, {"c": "\x00}\x00{", "d": ["}", "{"]}])
def test_a_list_of_records_takes_one_line_per_record_whatever_their_strings_hold(
        records) -> None:
    # the list is encoded in one call with NUL between items and split afterwards:
    # strings holding NUL, `}, {` or newlines must not move a line break
    document = {"records": records, "nested": [{"records": records}]}
    lines = dumps(document).split("\n")  # not splitlines: strings may hold U+0085
    expected = [f"    {json.dumps(r, ensure_ascii=False)}," for r in records]
    if any(records):  # a list of empty objects only stays on one line
        expected[-1] = expected[-1][:-1]
        assert lines[2:2 + len(records)] == expected
    assert json.loads(dumps(document)) == document


def _opens(value) -> bool:  # noqa: ANN001 - the rule of `dumps`' docstring, spelled out
    # (a `Records` is a list)
    members = value.values() if type(value) is dict else value \
        if isinstance(value, list) else ()
    return any((type(m) is dict and m) or (isinstance(m, list) and any(
        type(i) is dict or isinstance(i, list) for i in m)) for m in members)


def _laid_out(value, padding: str = "") -> str:  # noqa: ANN001
    if not _opens(value):
        return json.dumps(value, ensure_ascii=False)
    inner = padding + "  "
    if type(value) is dict:
        members = [f"{json.dumps(k, ensure_ascii=False)}: {_laid_out(v, inner)}"
                   for k, v in value.items()]
        return "{\n" + ",\n".join(inner + m for m in members) + f"\n{padding}}}"
    return "[\n" + ",\n".join(inner + _laid_out(v, inner) for v in value) + f"\n{padding}]"


@given(DOCUMENTS | st.dictionaries(st.text(max_size=3), RECORDS | DOCUMENTS, max_size=4)
       | st.lists(RECORDS | DOCUMENTS, max_size=4))
@example({"s": [{"a": 1}, {"b": [{"c": 2}]}, {"d": 3}, {"e": 4}, {"f": 5}, 6, [7]]})
def test_the_layout_is_its_recursive_definition_written_in_pieces(document) -> None:
    # dumps lays out runs of one-line records by the thousand (serialize.RUN, here 2, so
    # that runs are cut), iteratively and in pieces: the text is the plain recursive one
    original = serialize.RUN
    serialize.RUN = 2
    try:
        pieces: list[str] = []
        dump(document, pieces.append)
        compact: list[str] = []
        dump(document, compact.append, compact=True)
    finally:
        serialize.RUN = original
    assert "".join(pieces) == _laid_out(document) == dumps(document)
    assert "".join(compact) == json.dumps(document, ensure_ascii=False,
                                          separators=(",", ":"))


def _records(value) -> list:  # noqa: ANN001 - every `Records` list in a document
    found = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, serialize.Records):
            found.append(v)
        stack.extend(v.values() if isinstance(v, dict) else v if isinstance(v, list) else ())
    return found


def _layout_hints_hold(text: str) -> None:
    from mermaidgen import parse
    from mermaidgen.analysis import analyse
    from mermaidgen.preview.document import analysis_to_dict, model_to_dict

    diagram = parse(text)
    document = model_to_dict(diagram)
    document["analysis"] = analysis_to_dict(analyse(diagram))
    hinted = _records(document)
    assert len(hinted) >= 5  # statements, warnings, messages, events, diagnostics
    for records in hinted:
        assert records.opening == tuple(i for i, r in enumerate(records) if _opens(r))
    assert dumps(document) == _laid_out(document)


def test_the_layout_the_documents_know_is_the_one_dumps_would_find() -> None:
    # `Records.opening`, set by the code that builds the documents, is what `dumps`
    # would have found by looking into each record: on every sample, and on a diagram
    # with fields on messages and events, empty blocks and nested ones
    from pathlib import Path

    for sample in sorted((Path(__file__).parents[1] / "samples").glob("*.mmd")):
        _layout_hints_hold(sample.read_text(encoding="utf-8"))
    _layout_hints_hold(
        "sequenceDiagram\n    participant K as Kafka\n    A->>K: Placed {id, n: int}\n"
        "    K->>B: Placed\n    loop again\n    alt yes\n    B->>A: Go(x)\n    else no\n"
        "    opt deeper\n    A->>B: Stop()\n    end\n    end\n    end\n    rect rgb(1,2,3)\n"
        "    end\n    B->>A: done\n")


@settings(max_examples=60, deadline=None)
@given(diagrams())
def test_the_layout_the_documents_know_holds_on_any_diagram(generated) -> None:  # noqa: ANN001
    _layout_hints_hold(generated.text)


def test_a_reader_that_leaves_early_ends_the_json_preview_quietly(tmp_path) -> None:
    # the document is written in pieces: the reader's leaving (`| head`) shows at one of
    # them, and the command stops there as it did when it wrote one string: status 0,
    # nothing on stderr, nothing left to fail at the final flush
    source = tmp_path / "d.mmd"
    source.write_text("sequenceDiagram\n" + "".join(
        f"    A->>B: message number {i} with some words\n" for i in range(3000)))
    for options in ((), ("--compact",)):
        process = subprocess.Popen(
            [sys.executable, "-m", "mermaidgen", "preview", str(source), "--format", "json",
             *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(10).startswith(b"{")
        process.stdout.close()
        assert process.wait(timeout=60) == 0, options
        assert process.stderr.read() == b"", options
