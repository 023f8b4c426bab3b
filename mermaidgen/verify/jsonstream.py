"""Reading a large JSON file one element at a time, with the standard `json` module.

A trace export is one JSON value (a Jaeger `{"data": [trace, ...]}`, a Zipkin array of
spans, an OTLP `{"resourceSpans": [...]}`) or many of them one after another (the
OpenTelemetry file exporter writes one OTLP document per line). Loading such a file whole
costs memory in proportion to the file. `JsonStream` walks the outer objects and arrays
itself, a few characters at a time, and hands each *element* of the array it is asked
about to `json.JSONDecoder.raw_decode`, so memory is bounded by the largest element (a
span, a trace, a resource's batch) and the work stays inside the C decoder.

The text is read in chunks. An element cut by the end of a chunk makes `raw_decode`
fail near the end of the buffer (or on an unterminated string): then more text is read
and the element decoded again; any other failure is an error in the file, reported with
its line and column (`TraceFileError`), as is a file that ends inside a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from mermaidgen.errors import MermaidgenError

CHUNK = 1 << 20
_DECODER = json.JSONDecoder()
_SCAN_STRING = json.decoder.scanstring  # type: ignore[attr-defined]
_WHITESPACE = " \t\n\r"
_PARTIAL = re.compile(r"[\w.+\-]*")
"""What may stand at the end of a file cut inside a value: part of a number or a word."""
_NEAR_END = 8
"""A decoding error this close to the end of the text read so far may be a value cut by
the chunk (`tru`, `1.`, `\\u00`), not a mistake."""


class TraceFileError(MermaidgenError):
    """A trace file that cannot be read as what it claims to be; located."""

    def __init__(self, message: str, where: str = "", hint: str | None = None) -> None:
        self.where = where
        self.hint = hint
        text = f"{where}: {message}" if where else message
        super().__init__(text + (f"\n  hint: {hint}" if hint else ""))


class JsonStream:
    """A JSON text, read forward: whitespace, single characters, strings, whole values."""

    def __init__(self, handle: IO[str], name: str, chunk: int = CHUNK) -> None:
        self.handle = handle
        self.name = name
        self.chunk = chunk
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # the line of `pos`
        self.offset = 0  # the file offset (in characters) of buf[0]
        self.line_start = 0  # the file offset where the line of `pos` starts

    # --- positions ------------------------------------------------------------------------

    def where(self, pos: int | None = None) -> str:
        """`file:line:column` of `pos` in the buffer (default: the current position)."""
        line, column = self._locate(self.pos if pos is None else pos)
        return f"{self.name}:{line}:{column}"

    def _locate(self, pos: int) -> tuple[int, int]:
        lines = self.buf.count("\n", self.pos, pos) if pos > self.pos else 0
        if lines:
            start = self.offset + self.buf.rfind("\n", self.pos, pos) + 1
        else:
            start = self.line_start
        return self.line + lines, self.offset + pos - start + 1

    def _advance(self, to: int) -> None:
        if to > self.pos:
            lines = self.buf.count("\n", self.pos, to)
            if lines:
                self.line += lines
                self.line_start = self.offset + self.buf.rfind("\n", self.pos, to) + 1
        self.pos = to

    def _fill(self) -> bool:
        """Read more text; False at the end of the file."""
        if self.eof:
            return False
        # read at least as much again as is buffered, so an element spread over many
        # chunks is decoded O(log size) times, not once per chunk
        more = self.handle.read(max(self.chunk, len(self.buf) - self.pos))
        if not more:
            self.eof = True
            return False
        self.offset += self.pos
        self.buf = self.buf[self.pos:] + more
        self.pos = 0
        return True

    def _ahead(self) -> None:
        """Read on while little of the buffer is left: a value cut by its end fails to
        decode, and the decoder's error counts the lines of the whole buffer (a
        millisecond for a chunk), so it is better not cut."""
        if len(self.buf) - self.pos < self.chunk >> 2 and not self.eof:
            self._fill()

    # --- reading ----------------------------------------------------------------------------

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end of the file)."""
        while True:
            buf, pos = self.buf, self.pos
            end = len(buf)
            while pos < end and buf[pos] in _WHITESPACE:
                pos += 1
            self._advance(pos)
            if pos < end:
                return buf[pos]
            if not self._fill():
                return ""

    def expect(self, chars: str, what: str) -> str:
        found = self.peek()
        if not found or found not in chars:
            shown = f"`{found}`" if found else "the end of the file"
            raise TraceFileError(f"expected {what}, found {shown}", self.where(),
                                 "the file is cut short (truncated?)" if not found else None)
        self._advance(self.pos + 1)
        return found

    def value(self) -> tuple[Any, int]:
        """The next whole JSON value, and the line it starts on."""
        self.peek()
        self._ahead()
        while True:
            try:
                found, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._maybe_cut(exc) and self._fill():
                    continue
                raise self._error(exc) from None
            except RecursionError:
                raise TraceFileError("a JSON value nested too deeply to read",
                                     self.where()) from None
            line = self.line
            self._advance(end)
            return found, line

    def whole_line(self, accept: Callable[[Any], bool]) -> tuple[Any, int] | None:
        """The value that starts here, when it is all of the rest of its line and that
        line is already read (the OpenTelemetry file exporter writes one document per
        line): decoded in one go, as a reader of JSON lines would. None otherwise, and
        nothing is consumed (the caller then walks the value piece by piece, which
        bounds memory by an element, and locates any error)."""
        self.peek()
        self._ahead()
        buf, pos = self.buf, self.pos
        newline = buf.find("\n", pos)
        if newline < 0:
            return None
        try:
            found, end = _DECODER.raw_decode(buf, pos)
        except (json.JSONDecodeError, RecursionError):
            return None
        if end > newline or buf[end:newline].strip(_WHITESPACE) or not accept(found):
            return None
        self.pos = end  # no newline before `end`: the line is the same
        return found, self.line

    def _maybe_cut(self, exc: json.JSONDecodeError) -> bool:
        """Could the value be cut by the end of the text read so far (not wrong)?"""
        if exc.msg.startswith("Unterminated string"):
            return True
        rest = self.buf[exc.pos:].strip()
        if self.eof:  # only the start of a word or number may stand at the very end
            return _PARTIAL.fullmatch(rest) is not None
        return exc.pos >= len(self.buf) - _NEAR_END

    def _error(self, exc: json.JSONDecodeError) -> TraceFileError:
        start = "" if self._locate(exc.pos)[0] == self.line else \
            f" (in the value that starts on line {self.line})"
        if self._maybe_cut(exc):
            return TraceFileError(
                f"the file ends inside a JSON value ({_worded(exc.msg)}){start}",
                self.where(exc.pos), "the file is cut short (truncated?): was the exporter "
                "still writing it?")
        return TraceFileError(f"not valid JSON: {_worded(exc.msg)}{start}",
                              self.where(exc.pos))

    def key(self) -> str:
        """An object's key and its colon."""
        if self.peek() != '"':
            raise TraceFileError("expected a quoted key", self.where())
        while True:
            try:
                text, end = _SCAN_STRING(self.buf, self.pos + 1)
                break
            except json.JSONDecodeError as exc:
                if not self._fill():
                    raise TraceFileError(f"the file ends inside a key ({_worded(exc.msg)})",
                                         self.where(), "the file is cut short") from None
        self._advance(end)
        self.expect(":", "`:` after a key")
        return str(text)

    def members(self) -> Iterator[str]:
        """The keys of the object that starts here; read each one's value before the next."""
        self.expect("{", "an object `{`")
        if self.peek() == "}":
            self._advance(self.pos + 1)
            return
        while True:
            yield self.key()
            if self.expect(",}", "`,` or `}` after an object member") == "}":
                return

    def elements(self) -> Iterator[tuple[Any, int]]:
        """The elements of the array that starts here, each decoded, with its line."""
        self.expect("[", "an array `[`")
        if self.peek() == "]":
            self._advance(self.pos + 1)
            return
        while True:
            yield self.value()
            if self.expect(",]", "`,` or `]` after an array element") == "]":
                return

    def skip(self) -> None:
        """Read past the next value."""
        self.value()


def _worded(msg: str) -> str:
    """The decoder's message, lower-cased at its start (it follows our own words)."""
    return msg[:1].lower() + msg[1:]
