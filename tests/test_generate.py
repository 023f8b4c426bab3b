"""Generation: every sample and seed, in both styles, is a package that compiles, passes
ruff, and whose own contract test passes in a fresh virtual environment that has only the
standard library and pytest. Golden trees keep the output reviewable.

Refresh the golden trees after an intended template change with
`MERMAIDGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_generate.py`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from projects import (
    V1,
    known_defect_deselections,
    lint,
    lint_many,
    make_venv,
    pip_install,
    run,
    run_python,
    uv_command,
)

import mermaidgen
from mermaidgen.codegen.generate import Generation, build, copied_sources
from mermaidgen.codegen.write import output

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((PROJECT / "samples").glob("*.mmd"))
SEEDS = PROJECT.parent / "shared" / "corpus" / "seed"
GOLDEN = PROJECT / "tests" / "golden" / "generate"
UPDATE = os.environ.get("MERMAIDGEN_UPDATE_GOLDEN") == "1"
STYLES = ("choreography", "orchestration")
# golden trees for a few samples that between them use every construct: enough to review
# what a template change does to real output without thousands of lines of churn
GOLDEN_SAMPLES = ("checkout", "order-saga", "awkward-names", "saga-reply-decides")


def _sources() -> list[Path]:
    seeds = sorted(SEEDS.glob("*.mmd")) if SEEDS.is_dir() else []
    return SAMPLES + seeds


CASES = [pytest.param(path, style, id=f"{path.stem}-{style}")
         for path in _sources() for style in STYLES]


def generate(path: Path, style: str, out: Path, **options) -> Generation:
    text = path.read_text(encoding="utf-8")
    diagram = mermaidgen.parse(text, source=path.name)
    generation = build(diagram, text, style=style, **options)
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return generation


@pytest.fixture(scope="session")
def fresh_python(tmp_path_factory) -> Path:
    """A virtual environment with nothing but the standard library and pytest: built by
    uv when there is one (a second, where pip took eight of CPU), by pip otherwise; either
    way a failure to install fails the tests, as they need no engine. uv compiles pytest's
    bytecode as pip does: where PYTHONDONTWRITEBYTECODE is set, nothing else would, and
    each of the projects' test runs would compile pytest again (twice the CPU)."""
    home = tmp_path_factory.mktemp("fresh-venv")
    uv = uv_command()
    if uv is None:
        python = make_venv(home)
        pip_install(python, "pytest", skip_without_pypi=False)
        return python
    python = make_venv(home, with_pip=False)
    done = run([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python,
                "pytest"], home, timeout=600)
    assert done.returncode == 0, f"uv pip install pytest failed:\n{done.stderr[-3000:]}"
    return python


@pytest.fixture(scope="module")
def skeletons(request, tmp_path_factory) -> dict[str, tuple[Path, Generation, str]]:
    """The trees of the cases this run selected, each generated once, and linted all at
    once (one ruff for all of them, instead of a compileall and a ruff process per tree):
    case id -> (tree, generation, what is wrong with it)."""
    test = test_skeleton_compiles_lints_and_conforms.__name__
    wanted = {item.callspec.id for item in request.session.items
              if item.originalname == test and hasattr(item, "callspec")}
    root = tmp_path_factory.mktemp("skeletons")
    made = {}
    for case in CASES:
        if case.id in wanted:
            path, style = case.values
            out = root / case.id / "out"
            made[case.id] = (out, generate(path, style, out))
    problems = lint_many([out for out, _ in made.values()])
    return {case: (out, generation, problems[out])
            for case, (out, generation) in made.items()}


@pytest.mark.parametrize(("path", "style"), CASES)
def test_skeleton_compiles_lints_and_conforms(path: Path, style: str, fresh_python: Path,
                                             skeletons, request) -> None:
    out, generation, problems = skeletons[request.node.callspec.id]
    assert problems == "", problems
    # the golden samples' projects run in processes of their own, as on a fresh machine
    # (where a project that uses a module it never imports fails); the others in a
    # long-lived process of the same environment that imported pytest once
    # (tests/project_runner.py): about 0.4 CPU-s less a project
    own_process = path.stem in GOLDEN_SAMPLES
    tests = _run_project(fresh_python, ["-m", "pytest", "-q", "-p", "no:cacheprovider",
                                        *known_defect_deselections(path.stem, style)],
                         out, own_process)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    main = _run_project(fresh_python, ["-m", generation.package], out, own_process)
    assert main.returncode == 0, main.stderr
    assert "sequenceDiagram" in main.stdout
    if path.stem in GOLDEN_SAMPLES:
        _compare_golden(out, GOLDEN / path.stem / style)


def _run_project(python: Path, args: list[str], out: Path, own_process: bool):
    return run([python, *args], out) if own_process else run_python(python, args, out)


def _compare_golden(out: Path, golden: Path) -> None:
    produced = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
                for p in sorted(out.rglob("*")) if p.is_file() and ".mermaidgen" not in p.parts
                and "__pycache__" not in p.parts}
    # the vendored checker and the span writer are verbatim copies: compared with their
    # sources, not stored again
    vendored = copied_sources()
    for rel in [r for r in produced if r.endswith(tuple(f"/_generated/{n}" for n in vendored))]:
        assert produced.pop(rel) == vendored[rel.split("/_generated/", 1)[1]], \
            f"{rel} is not verbatim"
    if UPDATE:
        shutil.rmtree(golden, ignore_errors=True)
        for rel, text in produced.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_text(text, encoding="utf-8")
        return
    if not golden.is_dir():
        pytest.fail(f"no golden tree at {golden}; create it with MERMAIDGEN_UPDATE_GOLDEN=1")
    expected = {p.relative_to(golden).as_posix(): p.read_text(encoding="utf-8")
                for p in sorted(golden.rglob("*")) if p.is_file()}
    assert sorted(produced) == sorted(expected), (
        "the files differ from the golden tree; if intended, refresh with "
        "MERMAIDGEN_UPDATE_GOLDEN=1")
    for rel, text in produced.items():
        assert text == expected[rel], (
            f"{rel} differs from {golden / rel}; if intended, refresh with "
            "MERMAIDGEN_UPDATE_GOLDEN=1")


@pytest.mark.parametrize("style", STYLES)
def test_output_is_byte_identical_for_the_same_input(style: str, tmp_path: Path) -> None:
    path = PROJECT / "samples" / "checkout.mmd"
    generate(path, style, tmp_path / "a")
    generate(path, style, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                   if p.is_file() and "lock" not in p.name)
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


USER_EDIT = '''

    # my own business logic, which regeneration must never touch
    def payload_event_2(self, ctx):
        return wiring.events.Event2()
'''


def _regenerate(text: str, out: Path, style: str = "choreography") -> list[str]:
    """Generate from `text` into `out` and return the report's stale-hook lines."""
    from mermaidgen.codegen.write.user_code import stale_hooks

    diagram = mermaidgen.parse(text, source="flow.mmd")
    generation = build(diagram, text, style=style, package="flow")
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return stale_hooks(generation, out)


def test_user_code_survives_regeneration_and_new_messages_are_wired(
        tmp_path: Path, fresh_python: Path) -> None:
    out = tmp_path / "out"
    _regenerate(V1, out)
    user_file = out / "flow" / "services" / "service_b.py"
    user_file.write_text(user_file.read_text(encoding="utf-8").replace("    pass\n", "")
                         + USER_EDIT, encoding="utf-8")
    edited = user_file.read_bytes()

    v2 = V1 + "    ServiceC->>ServiceB: Event 4\n"
    assert _regenerate(v2, out) == []
    assert user_file.read_bytes() == edited
    assert "'Event 4'" in (out / "flow" / "_generated" / "diagram.py").read_text()
    tests = run_python(fresh_python, ["-m", "pytest", "-q", "-p", "no:cacheprovider"], out)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    main = run_python(fresh_python, ["-m", "flow"], out)
    assert "ServiceC->>ServiceB: Event 4" in main.stdout


def test_removing_a_message_reports_what_user_code_still_handles(
        tmp_path: Path, fresh_python: Path) -> None:
    out = tmp_path / "out"
    _regenerate(V1, out)
    user_file = out / "flow" / "services" / "service_b.py"
    user_file.write_text(user_file.read_text(encoding="utf-8").replace("    pass\n", "")
                         + USER_EDIT, encoding="utf-8")
    edited = user_file.read_bytes()

    v3 = V1.replace("    ServiceB->>ServiceC: Event 2\n", "")
    report = _regenerate(v3, out)
    assert user_file.read_bytes() == edited
    assert any("payload_event_2" in line and "no longer has" in line for line in report)
    tests = run_python(fresh_python, ["-m", "pytest", "-q", "-p", "no:cacheprovider"], out)
    assert tests.returncode != 0
    assert "payload_event_2" in tests.stdout


HOSTILE = '''sequenceDiagram
    title class def "quotes" \\ {{ x }}
    participant class
    participant import as 2FA Service
    participant None
    participant Order Service
    participant order-service
    participant 注文 as 注文サービス 🛒
    participant L as ''' + "L" * 500 + '''
    participant 123abc
    class->>import: triple """quotes""" and \'\'\'these\'\'\' \\n \\t \\\\
    import->>+None: {{ jinja }} ${shell} </script><script>alert(1)</script>
    None-->>-import: # not a comment #35; and #59; semicolons
    import->>Order Service: coding: latin-1
    Order Service->>order-service: ''' + "x" * 500 + '''
    order-service->>注文: 注文を確定する 🎉
    alt if "yes"
        注文->>L: pass
    else else
        注文->>123abc: return None
    end
    loop while True
        L->>L: yield from lambda
    end
'''


@pytest.mark.parametrize("style", STYLES)
def test_hostile_names_and_texts_make_working_code(style: str, tmp_path: Path,
                                                  fresh_python: Path) -> None:
    source = tmp_path / "hostile.mmd"
    source.write_text(HOSTILE, encoding="utf-8")
    out = tmp_path / "out"
    generation = generate(source, style, out)
    lint(out)
    tests = run_python(fresh_python, ["-m", "pytest", "-q", "-p", "no:cacheprovider",
                                      *known_defect_deselections("hostile", style)], out)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    main = run_python(fresh_python, ["-m", generation.package], out)
    assert main.returncode == 0, main.stderr
    assert "注文を確定する" in main.stdout


# Shapes whose generated code once failed ruff: a participant whose only "sends" before
# its first receipt are notes inside a `par` got a start() that left `ctx` unused (F841).
LINT_SHAPES = {
    "notes-only-par-before-a-receipt": """sequenceDiagram
    participant A
    participant B
    par one
        Note over A: a
    and two
        Note over A: b
    end
    B->>A: x
""",
    "notes-only-par-branch-beside-a-receipt": """sequenceDiagram
    A->>B: go
    par one
        Note over C: thinking
    and two
        B->>C: x
    end
""",
}


@pytest.mark.parametrize("text", LINT_SHAPES.values(), ids=LINT_SHAPES.keys())
@pytest.mark.parametrize("style", STYLES)
def test_odd_shapes_make_code_that_lints(text: str, style: str, tmp_path: Path) -> None:
    source = tmp_path / "shape.mmd"
    source.write_text(text, encoding="utf-8")
    generate(source, style, tmp_path / "out")
    lint(tmp_path / "out")


def _nested(kind: str, depth: int) -> str:
    lines = ["sequenceDiagram"]
    for i in range(depth):
        lines += [f"{kind} level {i}", f"    A->>B: m{i}"]
    return "\n".join(lines + ["end"] * depth) + "\n"


@pytest.mark.parametrize("style", STYLES)
def test_deep_nesting_generates_code_python_can_compile(style: str) -> None:
    text = _nested("alt", 40)
    generation = build(mermaidgen.parse(text, source="deep.mmd"), text, style=style)
    for f in generation.files:
        if f.path.endswith(".py"):
            compile(f.content, f.path, "exec")


def test_nesting_deeper_than_python_allows_is_refused_with_the_line() -> None:
    text = _nested("loop", 150)
    with pytest.raises(mermaidgen.errors.DiagramError) as refused:
        build(mermaidgen.parse(text, source="deep.mmd"), text)
    problem = refused.value.problems[0]
    assert problem.code == "too-deep" and problem.file == "deep.mmd"
    assert problem.line == 2 + 2 * 46  # the 47th loop: 46 fit (with the closures that
    # keep each function under CPython's 20 nested blocks)


EMPTY_COMBOS = [("python", "choreography"), ("python", "orchestration"),
                ("faststream", "choreography"), ("temporal", "orchestration")]


@pytest.mark.parametrize(("target", "style"), EMPTY_COMBOS)
def test_an_empty_diagram_generates_code_that_compiles_and_lints(tmp_path, target, style):
    """A diagram with no messages has no services: the files that import what services
    need must import nothing (the Temporal activities module imported five unused names,
    found by test_properties in CI)."""
    text = "sequenceDiagram\n"
    generation = build(mermaidgen.parse(text, source="empty.mmd"), text, style=style, target=target)
    output.write(output.plan(list(generation.files), tmp_path, generation.meta()))
    lint(tmp_path)
