"""Template sets to files in memory. Nothing here touches the output folder.

A template set is a folder `templates/<target>/<style>/` with a `files.toml` that lists
the files to produce (which template, which path, who owns the file) and the templates
themselves; `templates/<target>/common/` holds what both styles share. A user folder given
with `--templates DIR` overrides any template by name. A set's files are read as regular
files inside its folder, never through a link. Templates run in Jinja's immutable sandbox
with `StrictUndefined` and the limits of `sandbox` (size, depth, output, time,
memory), so a custom template can neither reach Python internals, nor change the context
the other templates see, nor print a variable that does not exist, nor run away; errors,
whatever raised them, name the template file and line.
"""

from __future__ import annotations

import errno
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mermaidgen.codegen.write.safefs import Root
from mermaidgen.errors import MermaidgenError
from mermaidgen.resources import templates_dir

OWNERS = ("generated", "user")
_BLANK_RUN = re.compile(r"\n{4,}")


class TemplateError(MermaidgenError):
    """A template set is broken (syntax, undefined variable, bad files.toml)."""


class TemplateLimitError(TemplateError):
    """A template ran into a limit of the sandbox (size, depth, output, time, memory): a
    runaway, which every other rendering with the same set would run into again."""


@dataclass(frozen=True, slots=True)
class RenderedFile:
    path: str
    """Relative POSIX path inside the output folder."""
    content: str
    owner: str
    """`generated` (rewritten on every run) or `user` (created once, never overwritten)."""


def template_dirs(target: str, style: str, user: Path | None = None) -> list[Path]:
    base = templates_dir() / target
    dirs = [base / style, base / "common"]
    if not dirs[0].is_dir():
        raise TemplateError(f"no built-in templates for target `{target}` and style `{style}`")
    return ([user] if user is not None else []) + dirs


def _environment(dirs: list[Path]):
    from jinja2 import ChoiceLoader, StrictUndefined

    from mermaidgen.codegen.write.sandbox import LimitedSandbox

    # immutable: every file renders from the same context, so no template may edit it
    # (`{{ services.clear() }}` would drop the files of every service after it)
    return LimitedSandbox(
        loader=ChoiceLoader([_set_loader(d) for d in dirs]),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, autoescape=False,
    )


def _read_in_set(folder: Path, name: str, limit: int | None = None) -> bytes | None:
    """The bytes of `name` in a template set, None if it has none. A set's files are
    regular files inside its folder: a link (an `_header.jinja` linked to a secret would
    be embedded in every file), a path out of it or a device is refused; so is a file of
    more than `limit` bytes, without reading it all."""
    try:
        with Root(folder, TemplateError) as r:
            data = r.read(name, limit)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise TemplateError(f"{folder / name}: cannot read it ({exc.strerror or exc})") \
            from None
    if limit is not None and len(data) > limit:
        raise TemplateError(f"{folder / name}: too large (at most {limit:,} bytes)")
    return data


# --- the context version a set was written for ---------------------------------------------

MARKER = "mermaidgen-templates.toml"
"""The file `templates export` writes into a set: the template context version (and the
target and style) it was exported for. No template and no `files.toml` entry names it."""

_MARKER_LIMIT = 64 * 1024


def marker_text(target: str, style: str) -> str:
    from mermaidgen.codegen.context import CONTEXT_VERSION

    return ("# Written by `mermaidgen templates export`: the template context version this\n"
            "# set was written for (docs/template-context.md). mermaidgen warns when it\n"
            "# renders a newer one, and says what changed.\n"
            f"context_version = {CONTEXT_VERSION}\n"
            f"target = \"{target}\"\nstyle = \"{style}\"\n")


def set_version(folder: Path) -> int | None:
    """The context version the set in `folder` was exported for, None if it has no marker
    (it was exported before sets had one: version 4 or older). A set for a newer version
    than this mermaidgen renders is a usage error; a broken marker names its file."""
    from mermaidgen.codegen.context import CONTEXT_VERSION
    from mermaidgen.errors import UsageError

    where = folder / MARKER
    data = _read_in_set(folder, MARKER, _MARKER_LIMIT)
    if data is None:
        return None
    try:
        version = tomllib.loads(data.decode("utf-8")).get("context_version")
    except UnicodeDecodeError as exc:
        raise TemplateError(f"{where}: not UTF-8 ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{where}: {exc}") from None
    if type(version) is not int or version < 1:
        raise TemplateError(f"{where}: `context_version` must be a whole number from 1 "
                            f"(this mermaidgen renders {CONTEXT_VERSION}); found "
                            f"{'nothing' if version is None else repr(version)[:40]}")
    if version > CONTEXT_VERSION:
        raise UsageError(f"{where}: this template set was written for template context "
                         f"version {version}, newer than the version {CONTEXT_VERSION} this "
                         "mermaidgen renders; upgrade mermaidgen, or export a set for "
                         "this version with `mermaidgen templates export`")
    return version


def stale_set_warning(folder: Path, version: int | None, target: str, style: str
                      ) -> str | None:
    """What the owner of a set exported for an older context version (`version`, None:
    before markers) must know: what changed since and how to migrate; None for a set of
    today's version. A folder with neither a marker nor a `files.toml` was never exported
    (every export has both): a few templates of the user's own, the built-in set's
    others, not a set to migrate."""
    from mermaidgen.codegen.context import CONTEXT_CHANGES, CONTEXT_VERSION

    if version == CONTEXT_VERSION or \
            (version is None and _read_in_set(folder, "files.toml") is None):
        return None
    if version is None:
        was = (f"has no {MARKER}: it was exported before sets recorded their template "
               f"context version, so it was written for version {CONTEXT_VERSION - 1} or "
               "older")
        since = range(1, CONTEXT_VERSION)
    else:
        was = f"was written for template context version {version}"
        since = range(version, CONTEXT_VERSION)
    new = folder.with_name(f"{folder.name}-v{CONTEXT_VERSION}") if folder.name else \
        Path(f"templates-v{CONTEXT_VERSION}")
    lines = [f"warning: template set {folder} {was}; this mermaidgen renders version "
             f"{CONTEXT_VERSION}. What changed since:"]
    lines += [f"  version {v} {CONTEXT_CHANGES[v]}" for v in since]
    lines += [f"  To migrate: `mermaidgen templates export {new} --target {target} --style "
              f"{style}`, carry your edits over to {new} (`diff -r {folder} {new}` shows "
              f"them) and generate with `--templates {new}`; or bring {folder} up to date "
              f"and copy {new}/{MARKER} into it. This run goes on with {folder}."]
    return "\n".join(lines)


def _set_loader(folder: Path):
    from jinja2 import BaseLoader, TemplateNotFound

    class SetLoader(BaseLoader):
        def get_source(self, environment, template: str):  # noqa: ANN001
            parts = template.split("/")
            # as Jinja's own loader: a name that leaves the folder is not in the set
            if any(p in ("", ".", "..") for p in parts) or "\\" in template:
                raise TemplateNotFound(template)
            data = _read_in_set(folder, template)
            if data is None:
                raise TemplateNotFound(template)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TemplateError(f"{folder / template}: not UTF-8 ({exc.reason})") \
                    from None
            return text, str(folder / template), lambda: True

    return SetLoader()


def _files_spec(dirs: list[Path]) -> list[dict]:
    for d in dirs:
        spec = d / "files.toml"
        data = _read_in_set(d, "files.toml")
        if data is not None:
            try:
                data = tomllib.loads(data.decode("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise TemplateError(f"{spec}: {exc}") from None
            files = data.get("file")
            if not isinstance(files, list) or not files:
                raise TemplateError(f"{spec}: expected a list of [[file]] tables")
            for entry in files:
                if not isinstance(entry, dict) or entry.get("owner") not in OWNERS or \
                        "path" not in entry or not ("template" in entry or "copy" in entry):
                    raise TemplateError(f"{spec}: each [[file]] needs `path`, `owner` "
                                        f"({' or '.join(OWNERS)}) and `template` or `copy`")
            return files
    raise TemplateError("no files.toml in the template folders " + ", ".join(map(str, dirs)))


def render(context: dict, target: str, style: str, user_templates: Path | None = None,
           vendored: dict[str, str] | None = None, source_size: int = 0
           ) -> list[RenderedFile]:
    """Every file of the skeleton, rendered in memory, in a stable order. `source_size`
    (the diagram's length) scales the time each file may take."""
    from mermaidgen.codegen.write import sandbox

    dirs = template_dirs(target, style, user_templates)
    env = _environment(dirs)
    # one time budget for the whole skeleton: a runaway `_header` is in every file
    budget = sandbox.Budget(source_size)
    out: list[RenderedFile] = []
    for entry in _files_spec(dirs):
        items: list = [None]
        if "each" in entry:
            listed = context.get(entry["each"])
            if not isinstance(listed, list):
                raise TemplateError(f"files.toml: `each = {entry['each']!r}` is not a list "
                                    "in the template context")
            items = listed
        for item in items:
            fields = {"package": context["package"], **(item if isinstance(item, dict) else {})}
            path = _path(entry["path"], fields)
            if "copy" in entry:
                moved = _moved_copies(entry["copy"], path, vendored or {})
                if moved:  # a set exported before the copy became a package
                    out.extend(RenderedFile(p, tidy_python(c), entry["owner"])
                               for p, c in moved)
                    continue
                content = (vendored or {}).get(entry["copy"])
                if content is None:
                    raise TemplateError(f"files.toml: nothing to copy for {entry['copy']!r}")
            else:
                local = dict(context)
                if item is not None:
                    local[entry.get("item_name", "item")] = item
                try:
                    content = sandbox.render(env.get_template(entry["template"]), local,
                                             budget)
                except sandbox.LimitError as exc:
                    raise TemplateLimitError(_describe(exc, entry["template"])) from None
                except Exception as exc:  # whatever rendering raises, the template caused it
                    raise TemplateError(_describe(exc, entry["template"])) from None
            if path.endswith(".py"):
                content = tidy_python(content)
            out.append(RenderedFile(path, content, entry["owner"]))
    return out


_PACKAGED = {"checker.py": "checker/"}
"""Copies that became packages (template context 5): a set exported for an older
context names the single file, and gets the package's modules in a folder of that name
beside where the file went (`_generated/checker.py` -> `_generated/checker/*.py`)."""


def _moved_copies(name: str, path: str, vendored: dict[str, str]
                  ) -> list[tuple[str, str]]:
    """For an old set's `copy` of a file that is a package now: each module's path and
    text; [] for any other copy."""
    folder = _PACKAGED.get(name)
    if folder is None or name in vendored:
        return []
    base = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    return [(base + module, text) for module, text in vendored.items()
            if module.startswith(folder)]


def tidy_python(text: str) -> str:
    """Trailing blanks off, at most two blank lines in a row, one final newline."""
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_RUN.sub("\n\n\n", "\n".join(lines)).strip("\n") + "\n"


def _path(pattern: object, fields: dict) -> str:
    """A files.toml `path` with its `{name}` fields filled in. Only plain names: `str.format`
    would also follow `{package.__class__}` or `{x[0]}` into Python objects, outside the
    sandbox the templates run in."""
    if not isinstance(pattern, str):
        raise TemplateError(f"files.toml: path {pattern!r} is not a string")
    parts = []
    try:
        for text, field, spec, conversion in string.Formatter().parse(pattern):
            parts.append(text)
            if field is None:
                continue
            if spec or conversion or field not in fields:
                allowed = ", ".join(f"{{{name}}}" for name in sorted(fields))
                raise TemplateError(f"files.toml: path {pattern!r} uses {{{field}}} (or a "
                                    f"conversion); a path can only use {allowed}")
            parts.append(str(fields[field]))
    except ValueError as exc:  # an unmatched brace
        raise TemplateError(f"files.toml: path {pattern!r}: {exc}") from None
    return "".join(parts)


def _describe(exc: BaseException, template: str) -> str:
    """`template FILE:LINE: message`. A syntax error carries its place; for anything raised
    while rendering (an undefined variable, the sandbox refusing, a filter failing on its
    data) the place is the innermost template frame of the traceback, which Jinja rewrites
    to point at template lines."""
    from jinja2 import TemplateError as JinjaError
    from jinja2 import TemplateNotFound, TemplateSyntaxError

    from mermaidgen.codegen.write.sandbox import LimitError

    name, line = (isinstance(exc, LimitError) and exc.filename) or template, None
    if isinstance(exc, TemplateSyntaxError):
        name, line = exc.filename or exc.name or template, exc.lineno
    else:
        tb = exc.__traceback__
        while tb is not None:
            if "__jinja_exception__" in tb.tb_frame.f_globals:  # jinja2.debug.fake_traceback
                name, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
            tb = tb.tb_next
    if isinstance(exc, TemplateNotFound):
        message = f"template {exc.name!r} not found"
    elif isinstance(exc, (JinjaError, LimitError, TemplateError)):
        message = str(exc) if not isinstance(exc, JinjaError) else \
            exc.message or type(exc).__name__
    else:
        message = f"{type(exc).__name__}: {exc}"
    where = f"{name}:{line}" if line else str(name)
    return f"template {where}: {message}"
