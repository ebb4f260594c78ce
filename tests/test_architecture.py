"""The house rules of src/emigre, read from the source (ast; no import of the package):

- imports run one way, down the floors of :data:`FLOORS` (docs/architecture.md); no package cycle;
- the engine imports only itself, ``errors`` and ``fileio``;
- no function takes more than 30 parameters (Numba kernels take bundles);
- no machine path (``/work/``, ``/home/``, ``/root/``) anywhere under src/;
- no module over 900 lines.

Every import counts, also one inside a function (a lazy import is still a dependency); only imports under
``if TYPE_CHECKING:`` do not (they exist for annotations and never run).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "emigre"

#: the floors, lowest first; a floor may import its own package and any floor below it. Packages in one
#: floor are siblings: neither imports the other.
FLOORS: list[tuple[str, ...]] = [
    ("errors",),  # the ground: the one error type the CLI prints as one line
    ("fileio", "callable_package", "limits"),  # atomic writes; the public face's callable packages; option bounds
    ("evidence", "baselines"),  # sourced figures; the pre-war travel baselines
    ("scenario", "flee"),  # the world: emigre's scenario tables, Flee's input formats
    ("engine",),  # population, network, day plan, counter-based random streams
    ("behaviour",),  # the rulesets (exodus, flee) that plug into the engine
    ("results",),  # the per-run schema and the store
    ("ensemble", "observe"),  # many runs on one executor | observation operators and likelihoods
    ("calibrate",),  # parameters -> posterior sample; the posterior reader
    ("estimate",),  # quantiles, validation, leave-one-source-out
    ("report",),  # HTML report and charts
    ("serve",),  # HTTP API and the web page
    ("jobs",),  # work that combines the floors (the main job)
    ("cli",),  # the commands
]
ENGINE_MAY_IMPORT = {"engine", "errors", "fileio"}
MAX_PARAMETERS = 30
MAX_LINES = 900
MACHINE_PATH = re.compile(r"(?<![\w.:/~-])/(?:work|home|root)/")


def _floor_of() -> dict[str, int]:
    return {pkg: i for i, floor in enumerate(FLOORS) for pkg in floor}


def _modules() -> list[tuple[Path, str]]:
    """(file, dotted module name) of every module under src/emigre."""
    out = []
    for p in sorted(SRC.rglob("*.py")):
        parts = ("emigre", *p.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((p, ".".join(parts)))
    return out


def _imports(path: Path, module: str) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) of every import in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            out.append((node.lineno, target, [a.name for a in node.names]))
    return out


def _runtime_nodes(node: ast.AST):
    """Every node below ``node`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            yield from (n for stmt in child.orelse for n in (stmt, *_runtime_nodes(stmt)))
            continue
        yield child
        yield from _runtime_nodes(child)


def _top(module: str) -> str | None:
    """The floor package of a dotted name inside emigre (None outside emigre or for the root package)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "emigre" and len(parts) > 1 else None


def _edges() -> list[tuple[str, str, str]]:
    """(importing package, imported package, 'file:line') over all modules except the root package, whose
    public face imports every floor on use."""
    edges = []
    for path, module in _modules():
        src = _top(module)
        if src is None:
            continue
        for line, target, names in _imports(path, module):
            if target == "emigre":  # `from emigre import X`: X is a floor, or the version
                targets = [f"emigre.{n}" for n in names if n != "__version__"]
            else:
                targets = [target]
            for t in targets:
                dst = _top(t)
                if dst is not None and dst != src:
                    edges.append((src, dst, f"{path.relative_to(SRC.parent)}:{line}"))
    return edges


def test_every_package_has_a_floor():
    floor = _floor_of()
    packages = {_top(m) for _, m in _modules()} - {None}
    assert sorted(packages - set(floor)) == [], "add the new package to FLOORS (and docs/architecture.md)"


def test_imports_run_down_the_floors():
    floor = _floor_of()
    upward = [f"{where}: {src} (floor {floor[src]}) imports {dst} (floor {floor[dst]})"
              for src, dst, where in _edges()
              if src in floor and dst in floor and floor[dst] >= floor[src]]
    assert not upward, "\n" + "\n".join(map(str, upward))


def test_no_package_cycle():
    graph: dict[str, set[str]] = {}
    for src, dst, _ in _edges():
        graph.setdefault(src, set()).add(dst)
    cycles = []
    # Tarjan's strongly connected components: a component of more than one package is a cycle
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, "\n" + "\n".join(map(str, cycles))


def test_the_engine_imports_only_itself_errors_and_fileio():
    bad = [f"{where}: engine imports {dst}" for src, dst, where in _edges()
           if src == "engine" and dst not in ENGINE_MAY_IMPORT]
    assert not bad, "\n" + "\n".join(map(str, bad))


def test_no_function_over_30_parameters():
    long = []
    for path, _ in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                a = node.args
                n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + (a.vararg is not None) + (
                    a.kwarg is not None)
                if n > MAX_PARAMETERS:
                    name = getattr(node, "name", "<lambda>")
                    long.append(f"{path.relative_to(SRC.parent)}:{node.lineno} {name}: {n} parameters")
    assert not long, "\n" + "\n".join(map(str, long))


def test_no_machine_path_in_src():
    found = []
    for p in sorted(SRC.rglob("*")):
        if not p.is_file() or p.suffix in (".parquet", ".png", ".pyc", ".woff2", ".pbf", ".gz"):
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for k, line in enumerate(text.splitlines(), 1):
            if MACHINE_PATH.search(line):
                found.append(f"{p.relative_to(SRC.parent)}:{k}: {line.strip()[:100]}")
    assert not found, "\n" + "\n".join(map(str, found))


def test_no_module_over_900_lines():
    long = [f"{p.relative_to(SRC.parent)}: {n} lines" for p, _ in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, "\n" + "\n".join(map(str, long))


@pytest.mark.parametrize("line, ok", [
    ('Path("/work/shared/evidence")', False),
    ("see /home/user/x", False),
    ('"/root/.cache"', False),
    ("https://example.org/home/page", True),
    ("docs at ~/work/ and ./root/", True),
])
def test_the_machine_path_rule_itself(line, ok):
    assert (MACHINE_PATH.search(line) is None) is ok
