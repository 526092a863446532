"""Every relative link in the repository's Markdown (README.md, docs/, bench/ …) resolves to a file
of this repository, and every ``#anchor`` to a heading of its target: the documentation must work
in a clone of this repository alone (no ``../shared/…`` links to files a clone does not have)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: directories that hold no documentation of ours (virtualenvs, run artefacts, caches)
SKIPPED = {".git", ".venv", "var", "node_modules", "staticfiles", "static"}

FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
HTML = re.compile(r"""<(?:a|img)\s[^>]*(?:href|src)=["']([^"']+)["']""", re.I)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto: …


def markdown_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.md")
        if not SKIPPED & set(path.relative_to(ROOT).parts[:-1])
        and not any(part.startswith(".") for part in path.relative_to(ROOT).parts[:-1])
    )


def links(text: str) -> list[str]:
    """The link targets of a Markdown text, outside code blocks and code spans."""
    text = CODE.sub("", FENCE.sub("", text))
    return [m[1] for pattern in (LINK, REFERENCE, HTML) for m in pattern.finditer(text)]


def anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown text."""
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(slug)
    return found


def broken(source: Path, target: str) -> str | None:
    """Why ``target`` (a link in ``source``) does not resolve, or None when it does."""
    if EXTERNAL.match(target):
        return None
    path_part, _, fragment = target.partition("#")
    resolved = (source.parent / path_part).resolve() if path_part else source
    try:
        resolved.relative_to(ROOT)
    except ValueError:
        return "points outside the repository (a clone would not have it)"
    if not resolved.exists():
        return "no such file in the repository"
    if resolved.is_dir():
        return "is a directory: link its README.md or a file in it"
    if (
        fragment
        and resolved.suffix == ".md"
        and fragment.lower() not in anchors(resolved.read_text(encoding="utf-8"))
    ):
        return f"no heading with the anchor #{fragment} in {resolved.relative_to(ROOT)}"
    return None


def test_the_documentation_is_found():
    names = {str(path.relative_to(ROOT)) for path in markdown_files()}
    assert {"README.md", "docs/adr/README.md", "bench/results/README.md"} <= names, names


@pytest.mark.parametrize("source", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(source: Path):
    problems = [
        f"{source.relative_to(ROOT)}: ({target}) {why}"
        for target in links(source.read_text(encoding="utf-8"))
        if (why := broken(source, target))
    ]
    assert not problems, "\n".join(problems)


def test_the_checker_finds_broken_links():
    """The checker itself: a link out of the repository, a missing file, a missing anchor and a
    directory are each reported; links in code, external links and good anchors are not."""
    text = """# Title

[spec](../shared/SPEC.md) [gone](docs/nothing.md) [anchor](README.md#no-such-heading)
[dir](docs) [ok](README.md#product-management-api) [web](https://example.com/x)
`[code](nowhere.md)`

```
[fenced](nowhere-either.md)
```
"""
    source = ROOT / "README.md"
    reasons = {target: broken(source, target) for target in links(text)}
    assert set(reasons) == {
        "../shared/SPEC.md",
        "docs/nothing.md",
        "README.md#no-such-heading",
        "docs",
        "README.md#product-management-api",
        "https://example.com/x",
    }
    assert "outside the repository" in reasons["../shared/SPEC.md"]
    assert "no such file" in reasons["docs/nothing.md"]
    assert "no heading" in reasons["README.md#no-such-heading"]
    assert "directory" in reasons["docs"]
    assert reasons["README.md#product-management-api"] is None
    assert reasons["https://example.com/x"] is None
    assert anchors(text) == {"title"}
