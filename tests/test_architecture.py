"""The shape of bot/: no import cycles (imports inside functions count), and one direction
between the layers: policy <- store <- service <- client <- app; the stand-in apart.

Only imports under `if TYPE_CHECKING:` are left out: they never run, so they cannot
make a cycle at run time (annotations are strings under `from __future__ import
annotations`). bot/policy's own purity (no discord, no database) is tests/policy/test_purity.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"

# Lowest first: a module may import its own layer and the layers before it.
LAYERS = ("policy", "settings", "store", "service", "client", "app")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("policy", "bundled"):
        return "policy"  # the package itself, the pure core, the bundled files
    if parts[1] in ("settings", "store", "service", "client", "standin"):
        return parts[1]
    return "app"  # app, cli, demo, runlog, startup, policy_cli, __main__


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _reexports(package: str) -> dict[str, str]:
    """Names a package's __init__ takes from its modules: `from bot.store import Store`
    depends on bot.store.store, where Store is defined."""
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    return {
        alias.asname or alias.name: node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module in MODULES
        for alias in node.names
    }


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:  # `import bot.store.db` loads bot.store.db
        name = name.rpartition(".")[0]
    return name or None


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The bot modules an import statement depends on."""
    if isinstance(node, ast.Import):
        return [m for alias in node.names if (m := _resolve(alias.name))]
    base = node.module or ""
    assert node.level == 0, "bot/ uses absolute imports only"
    if base not in MODULES:
        return [m] if (m := _resolve(base)) else []
    found = [base]
    if MODULES[base].name == "__init__.py":
        reexported = _reexports(base)
        for alias in node.names:
            if f"{base}.{alias.name}" in MODULES:  # a submodule
                found.append(f"{base}.{alias.name}")
            elif alias.name in reexported:
                found.append(reexported[alias.name])
    return found


def runtime_imports(module: str) -> set[str]:
    """Every bot module this one imports when it runs, at the top or inside functions.

    A module's own packages are left out: Python always runs them first, whatever the
    module imports, so they carry no information about its dependencies (the names it
    takes from them count, as the modules they are defined in)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped:
            found.update(_imported(node))
    return {t for t in found if t != module and not module.startswith(t + ".")}


GRAPH = {module: runtime_imports(module) for module in MODULES}


def test_the_graph_is_read_from_every_module() -> None:
    assert len(GRAPH) > 50
    assert "bot.store.store" in GRAPH["bot.service.followers"] | GRAPH["bot.store"]
    # an import inside a function counts
    assert "bot.demo" in GRAPH["bot.cli"] and "bot.app" in GRAPH["bot.cli"]


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_among_bot_modules() -> None:
    assert _cycles() == []


def test_each_layer_imports_only_itself_and_the_layers_below() -> None:
    offences = []
    for module, targets in GRAPH.items():
        own = layer(module)
        if own == "standin":
            offences += [f"{module} -> {t}" for t in targets if layer(t) != "standin"]
            continue
        for target in targets:
            theirs = layer(target)
            if theirs == "standin":
                if own != "app":  # the demo and the cli drive the stand-in; nothing else
                    offences.append(f"{module} -> {target}")
            elif LAYERS.index(theirs) > LAYERS.index(own):
                offences.append(f"{module} ({own}) -> {target} ({theirs})")
    assert offences == []


def test_the_layers_are_what_the_map_says() -> None:
    assert layer("bot.policy.engine") == "policy"
    assert layer("bot.store._outbox") == "store"
    assert layer("bot.service.owner") == "service"
    assert layer("bot.client.cogs.followers") == "client"
    assert layer("bot.app") == layer("bot.runlog") == layer("bot.cli") == "app"
    assert layer("bot.standin.server") == "standin"
