"""An mkdocs hook that keeps the site's navigation whole while pages come and go.

* A nav entry whose page is listed under `extra.optional_pages` in mkdocs.yml, and does
  not exist, is dropped: pages other branches are writing can be in the nav before they
  land. Any other entry without its page stays, and `mkdocs build --strict` fails on it.
* A page under docs/ that the nav does not name is added under "More pages", so a new
  page is on the site (and its links checked) before someone gives it its place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MORE = "More pages"


def on_config(config: Any) -> Any:
    if config.nav is None:  # no nav: mkdocs lists every page itself
        return config
    docs = Path(config.docs_dir)
    optional = set(config.extra.get("optional_pages") or ())
    config.nav = arrange(config.nav, pages(docs), optional)
    return config


def pages(docs: Path) -> set[str]:
    """The Markdown pages under `docs`, as nav names them (`/`, relative)."""
    return {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")
            if not any(part.startswith("_") for part in p.relative_to(docs).parts)}


def arrange(nav: list[Any], present: set[str], optional: set[str]) -> list[Any]:
    """The nav without its absent optional pages, with the unlisted pages appended."""
    kept = _prune(nav, present, optional)
    listed = set(_named(kept))
    unlisted = sorted(present - listed)
    return kept + [{MORE: unlisted}] if unlisted else kept


def _prune(nav: list[Any], present: set[str], optional: set[str]) -> list[Any]:
    out: list[Any] = []
    for entry in nav:
        if isinstance(entry, dict):
            ((title, value),) = entry.items()
            if isinstance(value, list):
                value = _prune(value, present, optional)
                if value:
                    out.append({title: value})
            elif not _absent(value, present, optional):
                out.append(entry)
        elif not _absent(entry, present, optional):
            out.append(entry)
    return out


def _absent(page: str, present: set[str], optional: set[str]) -> bool:
    return page in optional and page not in present


def _named(nav: list[Any]):
    for entry in nav:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            if isinstance(value, list):
                yield from _named(value)
            else:
                yield value
