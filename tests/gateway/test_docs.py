"""The project stands alone: no tracked file points outside the repository,
and every relative link of the README and docs/ leads to a file (and, for a
Markdown file, a heading) that exists."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Built from pieces so that this file does not match its own patterns.
OUTSIDE_POINTERS = [
    "../" + "shared",
    "DEVELOP" + "ERS",
    "STYLE" + ".md",
    "CONVEN" + "TIONS",
    "DOMAIN" + ".md",
    "BENCHMARKS" + ".md",
]
_OUTSIDE = re.compile("|".join(re.escape(p) for p in OUTSIDE_POINTERS))
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def tracked_files() -> list[Path]:
    git = shutil.which("git")
    assert git is not None, "git lists the tracked files"
    listing = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [ROOT / name for name in listing.split("\0") if name and (ROOT / name).is_file()]


def markdown_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation
    dropped, spaces as hyphens, a repeated one numbered."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in _FENCE.sub("", page.read_text()).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match is None:
            continue
        slug = re.sub(r"[^\w\- ]", "", match[1].strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def relative_links(page: Path) -> list[str]:
    links = _LINK.findall(_FENCE.sub("", page.read_text()))
    return [link for link in links if not re.match(r"^[a-z][a-z0-9+.-]*:", link)]


def test_no_tracked_file_points_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # binary: no pointer to read
        for number, line in enumerate(text.splitlines(), start=1):
            if _OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    broken = []
    for link in relative_links(page):
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists() or ROOT not in (path, *path.parents):
            broken.append(f"{link}: no such file in the repository")
        elif anchor and path.suffix == ".md" and anchor not in heading_anchors(path):
            broken.append(f"{link}: no such heading in {path.relative_to(ROOT)}")
    assert broken == []


def test_the_readme_links_every_page_of_the_docs() -> None:
    linked = {(ROOT / link.partition("#")[0]).resolve() for link in relative_links(ROOT / "README.md")}
    pages = sorted((ROOT / "docs").glob("*.md"))
    assert {"api-guide.md", "architecture.md", "operations.md", "benchmarks.md"} <= {page.name for page in pages}
    assert [page.name for page in pages if page.resolve() not in linked] == []


HEADER = "Idempotency-Key"


def _schema_endpoint_rows() -> list[str]:
    """The API guide's endpoint table as the committed schema gives it: method, path, scopes, and
    whether the operation takes an Idempotency-Key (R: required, A: accepted)."""
    import yaml

    schema = yaml.safe_load((ROOT / "schema" / "openapi-v1.yaml").read_text())
    rows = []
    for path, operations in schema["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method not in operations:
                continue
            operation = operations[method]
            scopes = ", ".join(f"`{s}`" for sec in operation.get("security", []) for s in sec.get("oauth2", []))
            key = next(
                ("R" if p.get("required") else "A" for p in operation.get("parameters", []) if p["name"] == HEADER),
                "",
            )
            rows.append(f"| {method.upper()} | `{path}` | {scopes} | {key} |")
    return rows


def test_the_api_guide_lists_every_endpoint_of_the_schema_with_its_scopes() -> None:
    guide = (ROOT / "docs" / "api-guide.md").read_text().splitlines()
    listed = [line for line in guide if re.match(r"^\| [A-Z]+ \| `/api", line)]

    assert listed == _schema_endpoint_rows()
