"""Configured generations, from `[tool.mermaidgen]` in pyproject.toml or a mermaidgen.toml.

    [[tool.mermaidgen.generate]]
    source = "docs/checkout.md"
    diagram = 2                  # which diagram of a Markdown source (number or title)
    style = "orchestration"      # choreography | orchestration | auto
    target = "python"
    out = "services/checkout"
    package = "checkout"         # optional, like --package
    orchestrator = "Web"         # optional, like --orchestrator
    templates = "templates/ours" # optional, like --templates
    broker = "nats"              # faststream only

In mermaidgen.toml the same tables are written without the `tool.mermaidgen.` prefix.
Paths are relative to the file that configures them. With a configuration, a plain
`mermaidgen generate` runs every generation and `mermaidgen check` verifies them.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mermaidgen.errors import UsageError

STYLES = ("auto", "choreography", "orchestration")
_KEYS = {"source": str, "diagram": (int, str), "style": str, "target": str, "out": str,
         "package": str, "orchestrator": str, "templates": str, "broker": str}
_REQUIRED = ("source", "out")
_TOP_KEYS = {"generate", "check"}
_CHECK_KEYS = {"paths": list, "exclude": list, "strict": bool}


class ConfigError(UsageError):
    """A configuration file that cannot be used as written."""


@dataclass(frozen=True, slots=True)
class Generation:
    source: Path
    out: Path
    diagram: int | str | None = None
    style: str = "auto"
    target: str = "python"
    package: str | None = None
    orchestrator: str | None = None
    templates: Path | None = None
    broker: str | None = None

    @property
    def spec(self) -> str:
        """The source as a command-line source spec (`file.md#2`)."""
        return f"{self.source}#{self.diagram}" if self.diagram is not None else str(self.source)


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    generations: tuple[Generation, ...]
    check_paths: tuple[Path, ...] = ()
    exclude: tuple[str, ...] = ()
    strict: bool = False


def find(start: Path | None = None) -> Path | None:
    """The nearest mermaidgen.toml, or pyproject.toml with [tool.mermaidgen], from `start`
    up to the repository root."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        own = folder / "mermaidgen.toml"
        if own.is_file():
            return own
        project = folder / "pyproject.toml"
        if project.is_file() and "[tool.mermaidgen" in project.read_text(encoding="utf-8",
                                                                         errors="replace"):
            return project
        if (folder / ".git").exists():
            return None
    return None


def load(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    where = "[tool.mermaidgen]" if path.name == "pyproject.toml" else path.name
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("mermaidgen", {})
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    _unknown(path, where, data, _TOP_KEYS)
    base = path.parent
    entries = data.get("generate", [])
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: `generate` must be a list of tables ([[generate]])")
    generations = tuple(_generation(path, base, i + 1, e) for i, e in enumerate(entries))
    check = data.get("check", {})
    if not isinstance(check, dict):
        raise ConfigError(f"{path}: `check` must be a table")
    _unknown(path, f"{where} check", check, set(_CHECK_KEYS))
    for key, kind in _CHECK_KEYS.items():
        if key in check and not isinstance(check[key], kind):
            raise ConfigError(f"{path}: check.{key} must be a {kind.__name__}")
    return Config(path, generations, tuple(base / p for p in check.get("paths", [])),
                  tuple(str(x) for x in check.get("exclude", [])),
                  bool(check.get("strict", False)))


def _unknown(path: Path, where: str, data: dict, known: set[str]) -> None:
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else \
                f" (known keys: {', '.join(sorted(known))})"
            raise ConfigError(f"{path}: unknown key `{key}` in {where}{hint}")


def _generation(path: Path, base: Path, number: int, entry: object) -> Generation:
    where = f"generation #{number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    _unknown(path, where, entry, set(_KEYS))
    for key in _REQUIRED:
        if key not in entry:
            raise ConfigError(f"{path}: {where} needs `{key}`")
    for key, kind in _KEYS.items():
        if key in entry and not isinstance(entry[key], kind):
            raise ConfigError(f"{path}: {where}: `{key}` has the wrong type "
                              f"({type(entry[key]).__name__})")
    style = entry.get("style", "auto")
    if style not in STYLES:
        raise ConfigError(f"{path}: {where}: style `{style}` is not one of "
                          f"{', '.join(STYLES)}")
    return Generation(
        source=base / entry["source"], out=base / entry["out"],
        diagram=entry.get("diagram"), style=style, target=entry.get("target", "python"),
        package=entry.get("package"), orchestrator=entry.get("orchestrator"),
        templates=base / entry["templates"] if "templates" in entry else None,
        broker=entry.get("broker"),
    )
