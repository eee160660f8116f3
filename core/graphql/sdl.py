"""The services' GraphQL schemas as SDL files under docs/graphql/ (``python -m core.graphql.sdl``
writes them; a test fails when the code's schema and the files differ)."""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from ..config import REPO_ROOT
from ..generated_files import report, write_files

DOCS = REPO_ROOT / "docs" / "graphql"


def schemas() -> dict[str, str]:
    """File name -> SDL text, for each service."""
    from crm_app.graphql.schema import schema as crm
    from pms_app.graphql.schema import schema as pms

    return {"pms.graphql": print_schema(pms) + "\n", "crm.graphql": print_schema(crm) + "\n"}


def write(folder: Path = DOCS) -> list[Path]:
    return write_files(folder, schemas())


if __name__ == "__main__":
    report(write())
