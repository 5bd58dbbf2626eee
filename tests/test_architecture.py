"""The architecture, enforced: layers import downwards only, no cycles, no private names across
modules, a small top level, short modules, ``__all__`` everywhere.

Every import of every module under ``symstride/`` counts — at module level, inside functions,
under ``if TYPE_CHECKING:``, relative or absolute.  ``LAYERS`` is the one table of the layers
(ARCHITECTURE.md describes it); a module belongs to the first entry whose package or module
name is its own name or a prefix of it.  Each failure names the offending module and import.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "symstride"

#: The layers, bottom to top.  A module may import its own layer and the layers below it.
#: ``render`` knows no domain object (it needs only the error type), so everything above it,
#: core included, may print and render through it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("errors", ("symstride.core.errors",)),
    ("render", ("symstride.render",)),
    ("core", ("symstride.core",)),
    ("reference", ("symstride.reference",)),
    ("algebra", ("symstride.algebra",)),
    ("proof", ("symstride.proof",)),
    ("layer", ("symstride.layer",)),
    ("network", ("symstride.network", "symstride.decoder")),
    ("export", ("symstride.export",)),
    ("torch", ("symstride.torch",)),
    ("onnx", ("symstride.onnx",)),
    ("book", ("symstride.book",)),
    ("cli", ("symstride.cli",)),
    ("api", ("symstride.__main__", "symstride")),
]

MAX_TOP_LEVEL_MODULES = 12
MAX_LINES = 450


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module imported (the longest prefix that is a module of the package)
    names: tuple[str, ...]  # names imported from it ('from target import names'), empty for 'import target'
    line: int

    def __str__(self) -> str:
        what = f"from {self.target} import {', '.join(self.names)}" if self.names else f"import {self.target}"
        return f"{self.importer} (line {self.line}): {what}"


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


MODULES = _modules()


def _owner(dotted: str) -> str | None:
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def _imports(module: str) -> list[Import]:
    path, is_package = MODULES[module]
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "symstride":
                    found.append(Import(module, alias.name, (), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "symstride":
                continue
            for alias in node.names:
                if f"{source}.{alias.name}" in MODULES:  # 'from package import module'
                    found.append(Import(module, f"{source}.{alias.name}", (), node.lineno))
                else:
                    found.append(Import(module, source, (alias.name,), node.lineno))
    return found


IMPORTS = {module: _imports(module) for module in MODULES}


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    if best is None:
        raise AssertionError(f"{module} belongs to no layer of LAYERS in tests/test_architecture.py")
    return best


def _edges() -> dict[str, set[str]]:
    edges = {}
    for module, imports in IMPORTS.items():
        edges[module] = {_owner(i.target) for i in imports} - {module, None}
    return edges


def test_every_import_names_an_existing_module():
    missing = [str(i) for imports in IMPORTS.values() for i in imports if _owner(i.target) in (None, "symstride") and i.target != "symstride"]
    assert not missing, "imports of modules that do not exist:\n" + "\n".join(missing)


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


def test_layers_import_downwards_only():
    upward = []
    for module, imports in IMPORTS.items():
        own = layer_of(module)
        for imp in imports:
            target = _owner(imp.target)
            if target is None:
                continue
            if layer_of(target) > own:
                upward.append(f"{imp}  [{LAYERS[own][0]} imports {LAYERS[layer_of(target)][0]}]")
    assert not upward, "a lower layer imports a higher one:\n" + "\n".join(upward)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return components


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    edges = _edges()
    cycles = _cycles(edges)
    described = []
    for component in cycles:
        inside = set(component)
        links = [str(i) for m in component for i in IMPORTS[m] if _owner(i.target) in inside and _owner(i.target) != m]
        described.append(f"cycle among {component}:\n  " + "\n  ".join(links))
    assert not cycles, "\n".join(described)


def test_no_private_names_imported_across_modules():
    private = [
        str(i) for imports in IMPORTS.values() for i in imports for name in i.names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not private, "private names imported from another module:\n" + "\n".join(private)


def test_few_modules_at_the_top_level():
    top = sorted(m for m, (_, is_package) in MODULES.items() if m.count(".") == 1 and not is_package)
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"{len(top)} modules directly in symstride/ (at most {MAX_TOP_LEVEL_MODULES}): {top}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_short(module):
    lines = len(MODULES[module][0].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES}): split it by concept"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_declares_all(module):
    tree = ast.parse(MODULES[module][0].read_text())
    names = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
             for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}
    assert "__all__" in names, f"{module} has no __all__"


def test_no_reexport_shims():
    """A plain module (not a package's ``__init__``) defines something: it is not a list of imports."""
    shims = []
    for module, (path, is_package) in MODULES.items():
        if is_package or module == "symstride.__main__":
            continue
        tree = ast.parse(path.read_text())
        defines = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign))
                   and not (isinstance(n, ast.Assign) and [getattr(t, "id", None) for t in n.targets] == ["__all__"])]
        if not defines:
            shims.append(module)
    assert not shims, f"modules that only re-export names: {shims}"


#: Public names deliberately defined in more than one module, each the same concept in another
#: setting.  Anything else defined twice under one public name is a duplicate to rename.
SAME_CONCEPT = {
    # symstride.torch is the optional PyTorch integration: its nn.Modules are the algebra's
    # operators of the same name (space-to-depth, depth-to-space) as runnable torch layers.
    "SpaceToDepth": {"symstride.algebra.resampling", "symstride.torch.spacetodepth"},
    "DepthToSpace": {"symstride.algebra.resampling", "symstride.torch.spacetodepth"},
    # The CLI's subcommand interface: every symstride/cli/<command>.py provides add_parser and
    # run (and FORMATS, its --format writers), dispatched by symstride.cli by module.
    "add_parser": {m for m in MODULES if m.startswith("symstride.cli.") and m != "symstride.cli._args"},
    "run": {m for m in MODULES if m.startswith("symstride.cli.") and m != "symstride.cli._args"},
    "FORMATS": {"symstride.cli.decoder", "symstride.cli.derive", "symstride.cli.network"},
}


def _public_definitions(tree: ast.Module) -> set[str]:
    """Names a module both defines at top level (class, function, assignment) and lists in ``__all__``."""
    listed: set[str] = set()
    defined: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Name):
                    defined.add(t.id)
                    if t.id == "__all__" and isinstance(node.value, (ast.List, ast.Tuple)):
                        listed = set(ast.literal_eval(node.value))  # a computed __all__ lists names defined elsewhere
    return defined & listed


def duplicated_public_names(modules: dict[str, ast.Module]) -> dict[str, set[str]]:
    """Public names defined in more than one of ``modules``, beyond :data:`SAME_CONCEPT`."""
    where: dict[str, set[str]] = {}
    for module, tree in modules.items():
        for name in _public_definitions(tree):
            where.setdefault(name, set()).add(module)
    return {n: ms for n, ms in where.items() if len(ms) > 1 and not ms <= SAME_CONCEPT.get(n, set())}


def test_duplicate_finder_finds_a_duplicate():
    """The failing twin: two modules that both define and export ``Layer`` are named."""
    tree = ast.parse('__all__ = ["Layer"]\nclass Layer: pass\n')
    assert duplicated_public_names({"a.x": tree, "a.y": tree}) == {"Layer": {"a.x", "a.y"}}
    assert duplicated_public_names({"symstride.algebra.resampling": ast.parse('__all__ = ["SpaceToDepth"]\nclass SpaceToDepth: pass\n'),
                                    "symstride.torch.spacetodepth": ast.parse('__all__ = ["SpaceToDepth"]\nSpaceToDepth = 1\n')}) == {}


def test_no_public_name_defined_twice():
    """One public name, one definition: the user-facing one keeps the name, internal ones are renamed."""
    trees = {module: ast.parse(path.read_text()) for module, (path, _) in MODULES.items()}
    duplicates = duplicated_public_names(trees)
    assert not duplicates, "public names defined in more than one module: " + "; ".join(
        f"{n} in {', '.join(sorted(ms))}" for n, ms in sorted(duplicates.items()))


def test_destride_verify_check_mapping_and_exports_do_not_touch_proof():
    """Derivations are built lazily: only ``.derivation`` brings in :mod:`symstride.proof`."""
    import subprocess
    import sys

    code = """
import sys
from symstride import Conv, ConvTranspose, check_mapping, destride
import symstride.export as export
eq = destride(Conv(kernel=3, stride=2, padding=1, in_channels=2))
assert eq.verify().exact and eq.verify_subsampling().exact
assert check_mapping(eq.to_json()).correct
bad = eq.to_json(); bad["taps"][0]["offset"] = [1]
assert not check_mapping(bad).correct
export.python_module(eq); export.npz_bytes(eq); export.formula_text(eq)
teq = destride(ConvTranspose(kernel=4, stride=2, padding=1))
assert teq.verify().exact and teq.verify_adjoint().exact
export.python_module(teq); export.formula_text(teq)
print(sorted(m for m in sys.modules if m.startswith("symstride.proof")))
eq.derivation
print("symstride.proof.polyphase" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    before, after = out.stdout.split("\n")[:2]
    assert before == "[]", f"checks and exports imported {before}"
    assert after == "True"
