"""Mermaid's diagram database rules, applied to the statements in document order.

mermaid.js replays the parsed statements into its `SequenceDB` and some diagrams that
parse are rejected there (syntax reference section 13, "semantic" errors). This module
applies the same rules while the statements stream past, and collects what it finds:

* participants appear on first use, in display order; a declaration with a label replaces
  the record, one without is a no-op (section 5.2);
* `create`/`destroy` must be followed by a message that involves the participant (5.3);
* a participant belongs to one box at most (5.4);
* deactivating a participant that is not active is an error (7);
* `@{...}` metadata must be valid YAML; `links`/`properties` JSON that does not parse is
  ignored with a warning, as mermaid ignores it.
"""

from __future__ import annotations

import json
import re
from types import MappingProxyType

from mermaidgen.errors import Problem
from mermaidgen.mermaid.css import is_css_color
from mermaidgen.mermaid.lexrules import WS
from mermaidgen.mermaid.syntax import Declaration, LinkStatement, Meta, Opener, Tok
from mermaidgen.mermaid.text import js_trim, parse_message, without_surrogates
from mermaidgen.model import Box, Diagnostic, Diagram, Participant, Span, Statement

_BOX_LABEL = re.compile(rf"((?:rgba?|hsla?){WS}*\(.*\)|\w*)(.*)", re.ASCII)


class _Actor:
    """A participant while the diagram is being read (mutable until `diagram()`)."""

    __slots__ = ("id", "label", "kind", "span", "declared", "box", "wrap", "links",
                 "properties")

    def __init__(self, pid: str, label: str, kind: str, span: Span, declared: bool,
                 box: int | None, wrap: bool | None):
        self.id, self.label, self.kind, self.span = pid, label, kind, span
        self.declared, self.box, self.wrap = declared, box, wrap
        self.links: dict[str, object] = {}
        self.properties: dict[str, object] = {}


class Builder:
    def __init__(self) -> None:
        self.actors: dict[str, _Actor] = {}
        self.boxes: list[dict] = []
        self.current_box: int | None = None
        self.active: dict[str, int] = {}
        self.pending_create: tuple[str, Span] | None = None
        self.pending_destroy: tuple[str, Span] | None = None
        self.created: set[str] = set()
        self.destroyed: set[str] = set()
        self.meta: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self._metadata_read: dict[str, object] = {}  # source -> its values or its problem
        self._handlers = {
            "SIGNAL": self.on_message, "NOTE": self.on_note, "PARTICIPANT": self._declare,
            "CREATE": self._create, "DESTROY": self._destroy, "ACTIVATE": self.on_activate,
            "DEACTIVATE": self.on_deactivate, "LINK": self._link, "TITLE": self._meta,
            "BOX": self._box, "END": self._end,
        }

    def observe(self, tok: Tok) -> None:
        handler = self._handlers.get(tok.type)
        if handler is not None:
            handler(tok.value)

    def _error(self, span: Span, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, span.line, span.column, hint=hint,
                                     code="semantic"))

    def _warn(self, span: Span, code: str, message: str) -> None:
        self.warnings.append(Problem(message, span.line, span.column, code=code,
                                     severity="warning"))

    # -- participants ------------------------------------------------------------------

    def _use(self, pid: str, span: Span) -> None:
        """A participant named in a message, note or link: created on first use."""
        if pid not in self.actors:
            self._add(pid, None, None, None, span, declared=False)

    def _add(self, pid: str, label: tuple[str, bool | None] | None, kind: str | None,
             metadata: dict | None, span: Span, declared: bool) -> None:
        """mermaid's `addActor`, rule for rule."""
        if metadata is not None:
            if metadata.get("type") is not None:
                kind = str(metadata["type"])
            alias = metadata.get("alias")
            if alias and (label is None or label[0] == pid):
                label = (str(alias), label[1] if label else None)
        old = self.actors.get(pid)
        box = self.current_box
        if old is not None:
            if box is not None and old.box is not None and box != old.box:
                self._error(span, f"participant `{pid}` is already in the box "
                            f"`{self.boxes[old.box]['title'] or old.box + 1}`; a participant "
                            "can belong to one box only")
                return
            box = old.box if old.box is not None else box
            old.box = box
            if label is None:
                return
        if label is None or kind is None:
            label = (pid, label[1] if label else None)
        actor = _Actor(pid, label[0], kind or "participant", span, declared, box, label[1])
        if old is not None:
            actor.declared = declared or old.declared
        self.actors[pid] = actor
        if self.current_box is not None:
            self.boxes[self.current_box]["participants"].append(pid)

    def _declare(self, decl: Declaration) -> None:
        metadata = None
        if decl.metadata is not None:
            metadata = self._metadata(decl)
            if metadata is None:
                return
        label = (decl.alias, decl.alias_wrap) if decl.alias is not None else None
        self._add(decl.id, label, decl.keyword, metadata, decl.span, declared=True)

    def _metadata(self, decl: Declaration) -> dict | None:
        from mermaidgen.mermaid import bounded_yaml  # only diagrams with `@{...}` pay for yaml

        text = decl.metadata or ""
        source = "{\n" + text + "\n}" if "\n" not in text else text + "\n"
        # the same text is read once per diagram (participants often share it: a diagram
        # of 20,000 declarations spent half its parse in YAML); the values are only read
        read = self._metadata_read.get(source)
        if read is None:
            try:
                data, _ = bounded_yaml.load(source)
                read = data if isinstance(data, dict) else {}
            except bounded_yaml.YamlProblem as exc:
                read = exc
            self._metadata_read[source] = read
        if isinstance(read, bounded_yaml.YamlProblem):
            self._error(decl.metadata_span or decl.span,
                        f"invalid metadata for `{decl.id}`: {read.reason}",
                        read.hint or 'write it as YAML or JSON: `@{ "type": "database" }`')
            return None
        return read  # type: ignore[return-value]

    def _create(self, decl: Declaration) -> None:
        if decl.id in self.actors:
            self._error(decl.span, f"`{decl.id}` already exists, so it cannot be created here",
                        "mermaid allows one participant per id, even after `destroy`; "
                        "create a new id with an alias: `create participant C2 as "
                        f"{decl.id}`")
            return
        self.pending_create = (decl.id, decl.span)
        self.created.add(decl.id)
        self._declare(decl)

    def _destroy(self, node) -> None:
        self.pending_destroy = (node.participant, node.span)
        self.destroyed.add(node.participant)

    # -- statements --------------------------------------------------------------------

    def on_message(self, m) -> None:
        self._use(m.sender, m.span)
        self._use(m.receiver, m.span)
        if self.pending_create is not None:
            pid, where = self.pending_create
            self.pending_create = None
            if m.receiver != pid:
                self._error(where, f"`{pid}` is created here, but the next message (line "
                            f"{m.span.line}) goes to `{m.receiver}`, not to `{pid}`",
                            f"the message right after `create participant {pid}` must be "
                            f"sent to `{pid}`")
        elif self.pending_destroy is not None:
            pid, where = self.pending_destroy
            self.pending_destroy = None
            if pid not in (m.sender, m.receiver):
                self._error(where, f"`{pid}` is destroyed here, but the next message (line "
                            f"{m.span.line}, `{m.sender}` to `{m.receiver}`) does not "
                            "involve it",
                            f"the message right after `destroy {pid}` must be sent to or "
                            f"from `{pid}`")
        if m.activate:
            self.active[m.receiver] = self.active.get(m.receiver, 0) + 1
        if m.deactivate:
            self._release(m.sender, m.span, f"`-` in `{m.sender}{m.arrow}-{m.receiver}` ends "
                          f"`{m.sender}`'s activation")

    def _release(self, pid: str, span: Span, how: str) -> None:
        count = self.active.get(pid, 0)
        if count < 1:
            self._error(span, f"`{pid}` is not active, so it cannot be deactivated ({how})",
                        f"activate it first (`activate {pid}`, or `+` before it as a "
                        "receiver: `A->>+B`); note that `-` deactivates the *sender*")
            return
        self.active[pid] = count - 1

    def on_activate(self, node) -> None:
        self.active[node.participant] = self.active.get(node.participant, 0) + 1

    def on_deactivate(self, node) -> None:
        self._release(node.participant, node.span, "`deactivate`")

    def on_note(self, note) -> None:
        for pid in note.participants:
            self._use(pid, note.span)

    def _link(self, link: LinkStatement) -> None:
        self._use(link.participant, link.span)
        actor = self.actors.get(link.participant)
        if actor is None or link.keyword == "details":  # details needs a web page's DOM
            return
        # (mermaid turns `&equals;` and `&amp;` back into `=` and `&` here, but only
        # in its sanitizer's output: a source cannot write them, since `;` ends the line,
        # and entity codes such as `#38;amp#59;` stay `&amp;` in mermaid's model)
        text = link.text
        if link.keyword == "link":
            at = text.find("@")
            actor.links[js_trim(text[: at - 1])] = js_trim(text[at + 1 :])
            return
        try:
            data = without_surrogates(json.loads(text))
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self._warn(link.span, "ignored-json", f"`{link.keyword}` for `{actor.id}` is not "
                       "a JSON object, so mermaid ignores it")
            return
        target = actor.links if link.keyword == "links" else actor.properties
        target.update(data)

    def _meta(self, meta: Meta) -> None:
        self.meta[meta.key] = meta.text

    def _box(self, opener: Opener) -> None:
        color, title = _box_label(opener.label)
        text, wrap = parse_message(title) if title is not None else (None, None)
        self.boxes.append({"title": text or None, "color": color, "wrap": wrap,
                           "span": opener.span, "participants": []})
        self.current_box = len(self.boxes) - 1

    def _end(self, _node: object) -> None:
        self.current_box = None  # boxes hold no blocks, so an `end` in a box closes it

    # -- result ------------------------------------------------------------------------

    def diagram(self, statements: tuple[Statement, ...], span: Span, title: str | None,
                config: dict, source: str | None, warnings: list[Diagnostic]) -> Diagram:
        participants = tuple(
            Participant(a.id, a.label, a.kind, a.span, a.declared, a.box,
                        a.id in self.created, a.id in self.destroyed, a.wrap,
                        MappingProxyType(a.links), MappingProxyType(a.properties))
            for a in self.actors.values()
        )
        boxes = tuple(Box(b["title"], b["color"], tuple(b["participants"]), b["span"],
                          b["wrap"]) for b in self.boxes)
        return Diagram(
            participants, statements, span,
            title=self.meta.get("title", title),
            acc_title=self.meta.get("acc_title"), acc_descr=self.meta.get("acc_descr"),
            boxes=boxes, config=MappingProxyType(config), warnings=tuple(warnings),
            source=source,
        )


def _box_label(label: str) -> tuple[str | None, str | None]:
    """mermaid's `parseBoxData`: a leading CSS colour, then the title."""
    m = _BOX_LABEL.fullmatch(label)
    color = js_trim(m.group(1)) if m and m.group(1) else "transparent"
    title = js_trim(m.group(2)) if m and m.group(2) else None
    if not is_css_color(color):
        color, title = "transparent", js_trim(label)
    # only mermaid's own default means "no colour"; a written `TRANSPARENT` keeps its case,
    # as every named colour does
    return (None if color == "transparent" else color), title
