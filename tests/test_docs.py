"""The project's documentation holds together: every relative link of README.md and docs/ leads
to a file that exists and, when it names a section, to a heading of that file; every page of
docs/ is listed on the README's front page; every setting the services read is documented in
docs/configuration.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import REPO_ROOT

DOCS = REPO_ROOT / "docs"
PAGES = [REPO_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
SETTING = re.compile(r"env\.[a-z_]+\(\s*\"([A-Z][A-Z0-9_]+)\"")
# Pages other parts of the work are writing at the same time; a link to one of them is only
# allowed while it is absent. Once they exist, their links are checked like any other.
WRITTEN_ELSEWHERE = {"api.md", "cli.md", "observability.md", "performance.md", "development.md"}


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[`*_]{2,}|`", "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(h) for h in HEADING.findall(FENCE.sub("", page.read_text()))}


def links(page: Path) -> list[str]:
    return [target for target in LINK.findall(FENCE.sub("", page.read_text())) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_lead_somewhere(page):
    assert links(page) or page.name != "README.md"
    for target in links(page):
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists() and destination.parent == DOCS and destination.name in WRITTEN_ELSEWHERE:
            continue
        assert destination.exists(), f"{page.name}: {target} leads nowhere"
        if anchor:
            assert anchor in anchors(destination), f"{page.name}: {target}: no such heading"


def test_the_front_page_lists_every_page():
    front = set(links(REPO_ROOT / "README.md"))
    for page in sorted(DOCS.glob("*.md")):
        assert f"docs/{page.name}" in front, f"README.md does not link docs/{page.name}"
    for name in sorted(WRITTEN_ELSEWHERE):
        assert f"docs/{name}" in front, name


def test_every_setting_is_documented():
    documented = (DOCS / "configuration.md").read_text()
    sources = [*REPO_ROOT.glob("*/config.py"), REPO_ROOT / "core" / "config.py"]
    settings = {name for source in sources for name in SETTING.findall(source.read_text())}
    settings |= {"DATABASE_URL", "DB_HOST", "DB_PORT", "DB_USER", "DB_PASS", "DB_NAME"}  # read by core.config
    for example in REPO_ROOT.glob("*/.env.example"):  # set or commented out, as each file lists them
        settings |= set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example.read_text(), re.MULTILINE))
    assert len(settings) > 40
    missing = sorted(name for name in settings if f"`{name}`" not in documented)
    assert not missing, f"docs/configuration.md does not document {missing}"


def test_slugs_follow_github():
    assert (
        slug("Wrong secret: webhooks rejected with invalid_signature")
        == "wrong-secret-webhooks-rejected-with-invalid_signature"
    )
    assert slug("Readiness, health and metrics") == "readiness-health-and-metrics"
    assert slug("The receiver's hot path") == "the-receivers-hot-path"
