"""Write the keyword-case conformance diagrams: every statement form with its keywords'
letter case varied, filed by what mermaid.js makes of each.

    python tests/conformance/case_variants.py      # then: python tests/conformance/refresh.py

mermaid's lexer is `%options case-insensitive`, so `PARTICIPANT A AS Alice` is as good as
the lower-case spelling, while a few things are not keywords of the lexer and keep their
case (the `sequenceDiagram` header for detection, the `wrap:` prefix, metadata keys). The
oracle decides, never this script: each variant goes to `diagrams/valid/` when mermaid
accepts it and to `diagrams/invalid/` (with the `%% error-line: N` comment the tests read)
when mermaid rejects it. Files are named `case-<form>-<variant>.mmd`; rerunning the script
deletes the old ones first, so the set always matches the templates below.

Each template marks its keywords as `⟨keyword⟩`. The variants of a form are: every keyword
in one style (lower, UPPER, Title, aLtErNaTiNg, or spelled with Unicode letters whose case
mapping is an ASCII letter: `breaK` with a Kelvin sign), and for forms with several
keywords each keyword alone in each style while the others keep their usual spelling.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refresh import DIAGRAMS, run_oracle  # noqa: E402

PREFIX = "case-"
SLOT = re.compile(r"⟨(\w+)⟩")
H = "sequenceDiagram\n"

#: Statement form -> diagram text with its keywords marked.
FORMS: dict[str, str] = {
    "header": "⟨sequenceDiagram⟩\nA->>B: hi\n",
    "header-repeated": H + "A->>B: hi\n⟨sequenceDiagram⟩\n",
    "participant": H + "⟨participant⟩ Alice\n",
    "participant-as": H + "⟨participant⟩ A ⟨as⟩ Alice\n",
    "participant-meta": H + '⟨participant⟩ D@{ "type": "database" }\n',
    "participant-meta-as": H + '⟨participant⟩ D@{ "type": "database" } ⟨as⟩ Store\n',
    "participant-meta-space-as": H + '⟨participant⟩ D @{ "type": "queue" } ⟨as⟩ Jobs\n',
    "participant-meta-alias": H + '⟨participant⟩ D@{ "type": "database", "alias": "Store" }\n',
    "participant-meta-type-value": H + '⟨participant⟩ D@{ "type": "⟨database⟩" }\n',
    "participant-meta-type-key": H + '⟨participant⟩ D@{ "⟨type⟩": "database" }\n',
    "actor": H + "⟨actor⟩ Bob\n",
    "actor-as": H + "⟨actor⟩ B ⟨as⟩ Bob\n",
    "actor-meta-as": H + '⟨actor⟩ Q@{ "type": "queue" } ⟨as⟩ Jobs\n',
    "create-participant": H + "⟨participant⟩ A\n⟨create⟩ ⟨participant⟩ B\nA->>B: hi\n",
    "create-actor-as": H + "⟨participant⟩ A\n⟨create⟩ ⟨actor⟩ B ⟨as⟩ Bob\nA->>B: hi\n",
    "create-meta-as": H + '⟨participant⟩ A\n⟨create⟩ ⟨participant⟩ D@{ "type": "database" } '
    "⟨as⟩ Store\nA->>D: hi\n",
    "destroy": H + "⟨participant⟩ A\n⟨participant⟩ B\nA->>B: hi\n⟨destroy⟩ B\nB->>A: bye\n",
    "box": H + "⟨box⟩ Aqua Team\n⟨participant⟩ A\n⟨actor⟩ B ⟨as⟩ Bob\n⟨end⟩\nA->>B: hi\n",
    "box-rgb": H + "⟨box⟩ ⟨rgb⟩(10, 20, 30) Team\n⟨participant⟩ A\n⟨end⟩\nA->>A: hi\n",
    "box-transparent": H + "⟨box⟩ ⟨transparent⟩ Team\n⟨participant⟩ A\n⟨end⟩\nA->>A: hi\n",
    "box-named-color": H + "⟨box⟩ ⟨aqua⟩\n⟨participant⟩ A\n⟨end⟩\nA->>A: hi\n",
    "loop": H + "⟨loop⟩ Every minute\nA->>B: ping\n⟨end⟩\n",
    "opt": H + "⟨opt⟩ maybe\nA->>B: ping\n⟨end⟩\n",
    "break": H + "⟨break⟩ on error\nA->>B: ping\n⟨end⟩\n",
    "rect": H + "⟨rect⟩ ⟨rgb⟩(0, 0, 255)\nA->>B: ping\n⟨end⟩\n",
    "alt": H + "⟨alt⟩ ok\nA->>B: yes\n⟨else⟩ not ok\nA->>B: no\n⟨end⟩\n",
    "par": H + "⟨par⟩ one\nA->>B: x\n⟨and⟩ two\nA->>C: y\n⟨end⟩\n",
    "par_over": H + "⟨par_over⟩ one\nA->>B: x\n⟨and⟩ two\nA->>C: y\n⟨end⟩\n",
    "critical": H + "⟨critical⟩ connect\nA->>B: x\n⟨option⟩ timeout\nA->>A: retry\n⟨end⟩\n",
    "nested-blocks": H + "⟨loop⟩ outer\n⟨alt⟩ a\n⟨opt⟩ o\nA->>B: x\n⟨end⟩\n⟨else⟩ b\n"
    "⟨break⟩ stop\nA->>B: y\n⟨end⟩\n⟨end⟩\n⟨end⟩\n",
    "blocks-semicolons": H + "⟨loop⟩ x; A->>B: y; ⟨end⟩\n",
    "note-left-of": H + "⟨note⟩ ⟨left⟩ ⟨of⟩ A: hi\n",
    "note-right-of": H + "⟨note⟩ ⟨right⟩ ⟨of⟩ A: hi\n",
    "note-over": H + "⟨note⟩ ⟨over⟩ A: hi\n",
    "note-over-two": H + "⟨note⟩ ⟨over⟩ A,B: hi\n",
    "activate": H + "A->>B: hi\n⟨activate⟩ B\nB->>A: ok\n⟨deactivate⟩ B\n",
    "autonumber": H + "⟨autonumber⟩\nA->>B: hi\n",
    "autonumber-start-step": H + "⟨autonumber⟩ 10 5\nA->>B: hi\n",
    "autonumber-off": H + "⟨autonumber⟩\nA->>B: hi\n⟨autonumber⟩ ⟨off⟩\nA->>B: ho\n",
    "title": H + "⟨title⟩ Checkout flow\nA->>B: hi\n",
    "title-colon": H + "⟨title⟩: Checkout flow\nA->>B: hi\n",
    "acc-title": H + "⟨accTitle⟩: Checkout\nA->>B: hi\n",
    "acc-descr": H + "⟨accDescr⟩: The checkout\nA->>B: hi\n",
    "acc-descr-block": H + "⟨accDescr⟩ {\n  line one\n  line two\n}\nA->>B: hi\n",
    "link": H + "⟨participant⟩ A\n⟨link⟩ A: Dashboard @ https://example.com/a\n",
    "links": H + '⟨participant⟩ A\n⟨links⟩ A: {"Dashboard": "https://example.com/a"}\n',
    "properties": H + '⟨participant⟩ A\n⟨properties⟩ A: {"class": "internal"}\n',
    "details": H + '⟨participant⟩ A\n⟨details⟩ A: {"x": "y"}\n',
    "arrows-cross": H + "A-⟨x⟩B: hi\nA--⟨x⟩B: ho\n",
    "wrap-prefix": H + "A->>B: ⟨wrap⟩: long text\n⟨note⟩ ⟨over⟩ A: ⟨nowrap⟩: short\n",
    "alias-wrap-prefix": H + "⟨participant⟩ A ⟨as⟩ ⟨wrap⟩: Alice\n",
    "block-wrap-prefix": H + "⟨loop⟩ ⟨wrap⟩: every minute\nA->>B: x\n⟨end⟩\n",
    "directive-init": '%%{⟨init⟩: {"sequence": {"mirrorActors": false}}}%%\n' + H
    + "A->>B: hi\n",
    "create-destroy": H + "⟨participant⟩ A\n⟨create⟩ ⟨destroy⟩ B\nA->>B: hi\n",
    "keyword-end-as-receiver": H + "A->>⟨end⟩: hi\n",
    "keyword-loop-as-sender": H + "⟨loop⟩->>B: hi\n",
    "keyword-off-as-receiver": H + "A->>⟨off⟩: hi\n",
    "keyword-as-as-name": H + "⟨participant⟩ ⟨as⟩\n⟨as⟩->>B: hi\n",
    "keyword-links-as-name": H + "A->>⟨links⟩: hi\n",
    "keyword-note-as-participant-name": H + "⟨participant⟩ ⟨note⟩\n",
    "directive-initialize": '%%{⟨initialize⟩: {"sequence": {"mirrorActors": false}}}%%\n'
    + H + "A->>B: hi\n",
    "frontmatter-config": "---\n⟨config⟩:\n  sequence:\n    mirrorActors: false\n---\n" + H
    + "A->>B: hi\n",
    "directive-wrap": "%%{⟨wrap⟩}%%\n" + H + "A->>B: hi\n",
    "frontmatter-title": "---\n⟨title⟩: Checkout\n---\n" + H + "A->>B: hi\n",
}

#: The usual spelling of keywords whose slot name is not it.
CANONICAL = {"note": "Note"}


def lower(word: str) -> str:
    return word.lower()


def upper(word: str) -> str:
    return word.upper()


def title(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def alternating(word: str) -> str:
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(word))


# Letters whose Unicode case mapping lands on an ASCII letter (KELVIN SIGN -> k, LATIN SMALL
# LETTER LONG S -> S, DOTLESS I -> I). JavaScript regexes without the `u` flag never fold
# them onto ASCII, so to mermaid `breaK` with a Kelvin sign is no keyword.
_LOOKALIKES = str.maketrans({"k": "\u212a", "s": "\u017f", "i": "\u0131"})


def lookalike(word: str) -> str:
    return word.lower().translate(_LOOKALIKES)


STYLES: dict[str, Callable[[str], str]] = {
    "lower": lower,
    "upper": upper,
    "title": title,
    "alternating": alternating,
    "lookalike": lookalike,
}


def fill(template: str, spell: Callable[[str], str]) -> str:
    return SLOT.sub(lambda m: spell(m.group(1)), template)


def usual(slot: str) -> str:
    return CANONICAL.get(slot, slot)


def variants(template: str) -> Iterator[tuple[str, str]]:
    """(variant name, diagram text), without repeats."""
    slots = list(dict.fromkeys(SLOT.findall(template)))
    seen = {fill(template, usual)}
    candidates: list[tuple[str, str]] = []
    for style, change in STYLES.items():
        candidates.append((f"all-{style}", fill(template, lambda s, c=change: c(usual(s)))))
    if len(slots) > 1:
        for slot in slots:
            for style, change in STYLES.items():
                text = fill(template, lambda s, c=change, t=slot: c(usual(s)) if s == t
                            else usual(s))
                candidates.append((f"{slot.lower()}-{style}", text))
    for name, text in candidates:
        if text not in seen:
            seen.add(text)
            yield name, text


def error_line(text: str, record: dict) -> int:
    """The file line the error is on, once the `%% error-line` comment is added above it.

    mermaid rejects a block that is never closed only at the end of the text; mermaidgen
    names the outermost block left open instead (as in blocks-loop-never-closed.mmd), which
    in these templates is always the first statement after the header. For errors mermaid
    finds while building (`semantic`, no line) mermaidgen names the statement at fault.
    """
    lines = text.splitlines()
    if record["error_kind"] == "semantic":  # mermaid gives no line: name the statement
        starts = ("create", "destroy")  # the only semantic errors these templates can cause
        line = next(i for i, ln in enumerate(lines, 1) if ln.lower().startswith(starts))
    else:
        line = record.get("source_line") or 1
    if line > len(lines):
        line = lines.index("sequenceDiagram") + 2
    return line + 1


def all_variants() -> dict[str, tuple[str, str]]:
    """File name -> (form, diagram text) for every variant of every form."""
    return {
        f"{PREFIX}{form}-{name}.mmd": (form, text)
        for form, template in FORMS.items()
        for name, text in variants(template)
    }


def main() -> int:
    for old in DIAGRAMS.glob(f"*/{PREFIX}*.mmd"):
        old.unlink()
    texts = {name: text for name, (_, text) in all_variants().items()}
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for name, text in texts.items():
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8", newline="\n")
            files.append(path)
        records = run_oracle(files, root=Path(tmp))
    counts = {"valid": 0, "invalid": 0}
    for path, record in zip(files, records, strict=True):
        text = texts[path.name]
        if record["ok"]:
            folder = "valid"
        else:
            folder = "invalid"
            reason = f"mermaid.js: {record['error_kind']} error, keyword case"
            text = f"%% error-line: {error_line(text, record)} {reason}\n{text}"
        counts[folder] += 1
        (DIAGRAMS / folder / path.name).write_text(text, encoding="utf-8", newline="\n")
    print(
        f"wrote {len(texts)} case variants of {len(FORMS)} forms: {counts['valid']} accepted "
        f"by mermaid (valid/), {counts['invalid']} rejected (invalid/); now run refresh.py"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
