"""The services' OpenAPI documents as files under docs/openapi/ (``python -m core.openapi.files``
writes them; a test fails when the code's documents and the files differ). They describe the
default base path, ``/api/v1``; a service serves its own, for its configured base path, at
``{base}/openapi.json``."""

from __future__ import annotations

import json
from pathlib import Path

from ..config import REPO_ROOT
from ..generated_files import report, write_files

DOCS = REPO_ROOT / "docs" / "openapi"
BASE_PATH = "/api/v1"


def documents(base_path: str = BASE_PATH) -> dict[str, str]:
    """File name -> document text, for each service."""
    from crm_app.openapi import document as crm
    from pms_app.openapi import document as pms

    return {
        name: json.dumps(build(base_path), indent=1, ensure_ascii=False) + "\n"
        for name, build in (("pms.json", pms), ("crm.json", crm))
    }


def write(folder: Path = DOCS) -> list[Path]:
    return write_files(folder, documents())


if __name__ == "__main__":
    report(write())
