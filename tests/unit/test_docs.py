"""The documentation: the site builds with `mkdocs build --strict` (a broken link or a page left out of the
navigation fails), and the README stays a front door."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_documentation_site_builds_strict(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                        str(tmp_path / "site")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]  # (--quiet would hide the warnings strict counts)
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "reference" / "configuration" / "index.html").exists()


def test_the_readme_is_a_front_door() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 15_000, "README.md over 15 KB: move the detail to a page in docs/"
    assert "<!-- test-command -->" in readme
    for page in ("docs/install.md", "docs/guide/answers.md", "docs/guide/models.md", "docs/reference/configuration.md"):
        assert page in readme, f"README.md does not link {page}"
