"""The SDL files in docs/graphql/ are the schemas the code serves (regenerate them with
``python -m core.graphql.sdl`` after changing a type)."""

from __future__ import annotations

from core.graphql import sdl


def test_documented_schemas_match_the_code():
    for name, text in sdl.schemas().items():
        documented = (sdl.DOCS / name).read_text(encoding="utf-8")
        assert documented == text, f"docs/graphql/{name} is out of date: run python -m core.graphql.sdl"


def test_schemas_name_fields_in_camel_case():
    for text in sdl.schemas().values():
        assert "_" not in "".join(
            line.split(":")[0]
            for line in text.splitlines()
            if line.startswith("  ") and not line.strip().startswith('"')
        )
