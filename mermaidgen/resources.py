"""Where the built-in files are: inside the installed package, or the source tree."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _folder(name: str) -> Path:
    packaged = Path(str(resources.files("mermaidgen"))) / name
    if packaged.is_dir():  # an installed wheel carries them inside the package
        return packaged
    return Path(__file__).resolve().parent.parent / name


def templates_dir() -> Path:
    return _folder("templates")


def samples_dir() -> Path:
    return _folder("samples")


def sample_paths() -> list[Path]:
    return sorted(samples_dir().glob("*.mmd"))
