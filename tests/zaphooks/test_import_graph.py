"""The direction of imports: hook delivery depends on the lead database, never the reverse, and the
hooks app's own modules import one another without a cycle (function-level imports included)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path, module: str) -> set[str]:
    """Every module that `module` (the file at `path`) imports anywhere in its body, functions
    included, as absolute dotted names (`from . import x` gives both the package and `package.x`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if path.name == "__init__.py" else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _modules(package: str, root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (a package by its own name)."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        dotted = ".".join(path.relative_to(root).with_suffix("").parts)
        modules[dotted.removesuffix(".__init__")] = path
    return modules


def test_no_leads_module_imports_hook_delivery():
    offenders = {
        name: sorted(i for i in _imports(path, name) if i == "zaphooks" or i.startswith("zaphooks."))
        for name, path in _modules("leads").items()
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_walk_sees_function_level_and_relative_imports(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("from . import a\n", encoding="utf-8")
    (tmp_path / "pkg" / "sub" / "b.py").write_text(
        "def f():\n    from zaphooks.services import events_relay\n    from ..a import x\n", encoding="utf-8"
    )
    modules = _modules("pkg", root=tmp_path)
    assert set(modules) == {"pkg", "pkg.sub.b"}
    assert "pkg.a" in _imports(modules["pkg"], "pkg")
    assert {"zaphooks.services", "pkg.a"} <= _imports(modules["pkg.sub.b"], "pkg.sub.b")


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, or None."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_hook_delivery_modules_import_one_another_without_a_cycle():
    modules = _modules("zaphooks")
    graph = {
        name: {i for i in _imports(path, name) if i in modules and i not in (name, "zaphooks")}
        for name, path in modules.items()
        if ".migrations." not in name
    }
    assert "zaphooks.wake" in graph["zaphooks.dispatch"]  # the walk sees `from . import wake`
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
