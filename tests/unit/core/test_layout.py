"""The package is laid out as the pipeline: imports only run down the stages, never in a
circle, and the records every stage passes on import no stage.

The import graph is read from the source with ``ast`` (every import, at module top or
inside a function), so the test sees what a reader sees.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import workflow

PACKAGE = Path(workflow.__file__).parent

# bottom to top: a module may import its own stage and the stages below it
FLOORS = ["core", "corpus", "align", "translation", "scoring", "outputs", "review", "scale", "pipeline", "cli"]
SIDE = {"testing": {"core"}}  # test helpers: beside the pipeline, on the core only


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = PACKAGE) -> list[tuple[str, int, bool]]:
    """(imported workflow module, line, inside a function) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name == "workflow" or name.startswith("workflow."):
                out.append((name, node.lineno, id(node) in local))
    return out


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for m, p in modules.items():
        for name, _, _ in imports(p, root):
            while name not in modules and "." in name:  # "from x import function": the module x
                name = name.rpartition(".")[0]
            if name in modules and name != m and name != "workflow":
                edges[m].add(name)
    return edges


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "workflow"


def test_every_stage_folder_exists_with_a_docstring():
    for name in FLOORS + list(SIDE):
        target = PACKAGE / (f"{name}.py" if name == "pipeline" else f"{name}/__init__.py")
        assert target.is_file(), target
        doc = ast.get_docstring(ast.parse(target.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40 and "TODO" not in doc, f"{target}: say what the stage owns"


def test_imports_only_run_down_the_stages():
    upward = []
    for m, targets in graph().items():
        for t in targets:
            a, b = stage(m), stage(t)
            if a == b or a == "workflow" or b == "workflow":
                continue
            if a in SIDE:
                ok = b in SIDE[a]
            else:
                ok = b in FLOORS[: FLOORS.index(a)]
            if not ok:
                upward.append(f"{m} -> {t}")
    assert not upward, "imports that run back up the stages:\n" + "\n".join(sorted(upward))


def test_no_import_circles():
    edges = graph()
    seen: dict[str, int] = {}  # 1 on the current path, 2 done
    circles = []

    def visit(m: str, path: list[str]) -> None:
        seen[m] = 1
        for t in sorted(edges[m]):
            if seen.get(t) == 1:
                circles.append(" -> ".join(path[path.index(t):] + [t]))
            elif t not in seen:
                visit(t, path + [t])
        seen[m] = 2

    for m in sorted(edges):
        if m not in seen:
            visit(m, [m])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_records_import_no_stage():
    path = PACKAGE / "core" / "records.py"
    assert [name for name, _, _ in imports(path)] == []


def test_workflow_imports_are_at_module_top():
    local = [f"{p.relative_to(PACKAGE.parent)}:{line}: {name}"
             for p in PACKAGE.rglob("*.py") for name, line, inside in imports(p) if inside]
    assert not local, "function-local imports of workflow modules hide arrows:\n" + "\n".join(local)


def test_the_checker_sees_an_upward_import(tmp_path):
    """The graph would show a planted upward, function-local import (the tests above can fail)."""
    fake = tmp_path / "workflow"
    for folder in ("", "core", "cli"):
        (fake / folder).mkdir(parents=True, exist_ok=True)
        (fake / folder / "__init__.py").write_text("")
    (fake / "cli" / "app.py").write_text("")
    (fake / "core" / "bad.py").write_text("def f():\n    from workflow.cli import app\n")
    assert graph(fake)["workflow.core.bad"] == {"workflow.cli", "workflow.cli.app"}
    assert [(n, inside) for n, _, inside in imports(fake / "core" / "bad.py", fake)] == [
        ("workflow.cli", True), ("workflow.cli.app", True)]


def readme_map() -> dict[str, set[str]]:
    """Folder -> module names of the README's layout table (names in parentheses are notes)."""
    text = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    table = text[text.index("## Layout"):]
    out = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        folder = cells[0].strip("`").rstrip("/").removesuffix(".py")
        top = re.sub(r"\([^()]*(\([^()]*\)[^()]*)*\)", "", cells[2])  # drop the notes in parentheses
        out[folder] = {m.rstrip("/") for m in re.findall(r"`([\w/]+)`", top)}
    return out


def test_readme_module_map_is_the_folder_layout():
    documented = readme_map()
    assert set(documented) == set(FLOORS) | set(SIDE)
    for folder, names in documented.items():
        if folder == "pipeline":
            continue
        actual = {p.stem for p in (PACKAGE / folder).glob("*.py") if not p.name.startswith("__")}
        actual |= {p.name for p in (PACKAGE / folder).iterdir() if (p / "__init__.py").is_file()}
        assert names == actual, f"README layout table, {folder}/: listed {sorted(names)}, on disk {sorted(actual)}"
