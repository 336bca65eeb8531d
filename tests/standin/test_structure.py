"""The stand-in's modules keep to themselves (issue 15 item 6): no module imports another's
private names or reaches into another object's private attributes, REST handlers take the
parts they use rather than the whole StandIn, and no module grows past about 400 lines."""

from __future__ import annotations

import ast
import pathlib

STANDIN = pathlib.Path(__file__).resolve().parents[2] / "bot" / "standin"
MAX_LINES = 400
OWN = ("self", "cls")


def _modules() -> list[tuple[str, ast.Module]]:
    return [(p.name, ast.parse(p.read_text(), str(p))) for p in sorted(STANDIN.glob("*.py"))]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_imports_private_names_of_another() -> None:
    offenders = []
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                offenders += [
                    f"{name}: from {node.module} import {a.name}"
                    for a in node.names
                    if _private(a.name) or any(_private(p) for p in node.module.split("."))
                ]
            elif isinstance(node, ast.Import):
                offenders += [f"{name}: import {a.name}" for a in node.names if "._" in a.name]
    assert offenders == []


def test_no_private_attribute_is_reached_through_another_object() -> None:
    """`obj._x` only on `self`/`cls`: whatever another object keeps private stays so."""
    offenders = []
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in OWN):
                    offenders.append(f"{name}:{node.lineno}: .{node.attr}")
    assert offenders == []


def test_rest_handlers_do_not_take_the_whole_standin() -> None:
    """The REST modules and the gateway name no StandIn: they take the world, the events, the
    application... from their own keys (context.py)."""
    users = []
    for name, tree in _modules():
        if not name.startswith(("rest", "gateway", "events", "driver_", "builder", "outgoing")):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.alias):
                ident = node.id if isinstance(node, ast.Name) else node.name
                if ident in ("StandIn", "standin_of"):
                    users.append(name)
    assert users == []


def test_every_module_stays_small() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in STANDIN.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
