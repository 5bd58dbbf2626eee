"""Packaging: every subpackage ships, templates ship, and ``import symstride`` stays light."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_in_pyproject():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "symstride").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found | set(setuptools["package-dir"]) == listed  # plus the folders mapped in: templates/, derivations/


def test_import_does_not_import_torch_or_build_templates():
    code = "import sys, symstride; print('torch' in sys.modules, 'jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split() == ["False", "False"]
