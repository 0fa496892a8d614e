"""The documentation lives in the repository: its links resolve here, it cites no outside document,
the declared license is shipped, and the API reference covers the public modules."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _relative_links(page: Path) -> list[str]:
    targets = [m.group(1).split("#")[0] for m in LINK.finditer(page.read_text())]
    return [t for t in targets if t and not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page):
    for target in _relative_links(page):
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{page.name} links outside the repository: {target}"
        assert resolved.exists(), f"{page.name} links to a missing file: {target}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_cites_a_document_that_is_not_in_the_repository(page):
    text = page.read_text()
    for outside in ("DESIGN.md", "ionq-api.md", "the issue", "issue's", "(issue)", "../shared"):
        assert outside not in text, f"{page.name} cites {outside!r}, which a reader of the repository cannot open"


def test_the_declared_license_is_shipped():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]["text"]
    text = (ROOT / "LICENSE").read_text()
    assert declared == "Apache-2.0"
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text and "END OF TERMS AND CONDITIONS" in text


def test_the_api_reference_has_a_page_for_each_public_module():
    config = (ROOT / "mkdocs.yml").read_text()
    assert re.search(r"^strict: true$", config, re.M)
    for module in ("qvec.circuit", "qvec.sim", "qvec.execute", "qvec.nn", "qvec.photonic", "qvec.backends",
                   "qvec.backends.ionq", "qvec.emulator", "qvec.errors"):
        page = ROOT / "docs" / "api" / f"{module.removeprefix('qvec.')}.md"
        assert f"::: {module}\n" in page.read_text(), page
        assert f"api/{page.name}" in config, f"{page.name} is not in the mkdocs nav"


LIBRARIES = re.compile(r"qvec|PennyLane|\bPL\b|Strawberry|\bSF\b|TorchQuantum")
PRECISION = re.compile(r"complex64|complex128|\bc64\b|\bc128\b")


def _comparison_headers(page: Path) -> list[list[str]]:
    """Header rows of the tables that set qvec beside another library."""
    lines = page.read_text().splitlines()
    headers = [line for line, below in zip(lines, lines[1:]) if line.startswith("|") and below.startswith("| ---")]
    cells = [[cell.strip() for cell in header.strip("|").split("|")] for header in headers]
    return [row for row in cells if len({m.group(0) for c in row for m in LIBRARIES.finditer(c)}) > 1]


@pytest.mark.parametrize("name", ["performance.md", "photonic.md"])
def test_every_comparison_with_another_library_names_each_sides_precision(name):
    headers = _comparison_headers(ROOT / "docs" / name)
    assert headers, f"no comparison tables found in {name}"
    for row in headers:
        for cell in row:
            if LIBRARIES.search(cell) and "MiB" not in cell and "target" not in cell:
                assert PRECISION.search(cell), f"{name}: column {cell!r} of a comparison does not say its precision"
