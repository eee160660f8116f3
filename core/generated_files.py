"""Reference files generated from the code (docs/openapi/*.json, docs/graphql/*.graphql): written
by one function, so every generator writes, names and reports its files the same way."""

from __future__ import annotations

import sys
from pathlib import Path

from .config import REPO_ROOT


def write_files(folder: Path, texts: dict[str, str]) -> list[Path]:
    """Write each ``name -> text`` into ``folder`` (created when missing); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def report(paths: list[Path]) -> None:
    """Name each written file, relative to the repository, one a line."""
    for path in paths:
        print(path.relative_to(REPO_ROOT), file=sys.stdout)
