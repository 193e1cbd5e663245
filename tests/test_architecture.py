"""The layout's rules (docs/architecture.md), read from the code's imports on every run.

- screens (kiosk/, counter/, display/, admin/) import the core (`motcua`) only;
- drivers/ imports nothing of ours but the neutral runtime module `motcua_runtime`;
- config/ and motcua_runtime/ import nothing of ours;
- motcua/queue/ and motcua/store/ import no Flask;
- only the device layer (motcua/devices/) and the device agent (agent/) import drivers/;
- the device agent (agent/) imports drivers/, motcua_runtime and the protocol agentproto only,
  never the core; agentproto imports nothing of ours (docs/agents.md);
- routes (motcua/api/ and the screens) import no table;
- no import cycles between modules;
- no module over 600 lines (migrations aside).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("motcua", "motcua_runtime", "drivers", "config", "kiosk", "counter", "display", "admin", "agent", "agentproto")
SCREENS = ("kiosk", "counter", "display", "admin")
FLASK = ("flask", "flask_socketio", "werkzeug", "socketio", "engineio")
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _files() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for top in OURS:
        base = ROOT / top
        if not base.is_dir():
            continue
        for path in base.rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            out[_module_name(path)] = path
    return out


FILES = _files()


class _Imports(ast.NodeVisitor):
    """Every import of a module, and whether it runs when the module is imported (top level)."""

    def __init__(self, module: str, is_package: bool):
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[tuple[str, bool, int]] = []  # (imported module, at import time, line)
        self._depth = 0
        self._type_checking = 0

    def _add(self, name: str, line: int) -> None:
        self.found.append((name, self._depth == 0 and self._type_checking == 0, line))

    def visit_FunctionDef(self, node):  # noqa: N802
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node):  # noqa: N802
        tc = isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        self._type_checking += tc
        for child in node.body:
            self.visit(child)
        self._type_checking -= tc
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node):  # noqa: N802
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node):  # noqa: N802
        if node.level:
            base = self.package.split(".")
            if node.level > 1:
                base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base)
            mod = f"{prefix}.{node.module}" if node.module else prefix
        else:
            mod = node.module or ""
        for alias in node.names:
            sub = f"{mod}.{alias.name}"
            self._add(sub if sub in FILES else mod, node.lineno)


def _imports() -> dict[str, list[tuple[str, bool, int]]]:
    out = {}
    for name, path in FILES.items():
        v = _Imports(name, path.name == "__init__.py")
        v.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        out[name] = v.found
    return out


IMPORTS = _imports()


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def _within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _violations(where, rule) -> list[str]:
    bad = []
    for mod, found in IMPORTS.items():
        if not where(mod):
            continue
        for target, _at_import, line in found:
            why = rule(mod, target)
            if why:
                bad.append(f"{FILES[mod].relative_to(ROOT)}:{line} imports {target} ({why})")
    return bad


def test_screens_import_the_core_only():
    def rule(mod, target):
        top = _top(target)
        if top in OURS and top != "motcua" and top != _top(mod):
            return "a screen uses the core, nothing else of ours"
        return None
    assert _violations(lambda m: _top(m) in SCREENS, rule) == []


def test_drivers_import_nothing_of_ours_but_the_runtime_module():
    def rule(_mod, target):
        top = _top(target)
        return "drivers are generic adapters" if top in OURS and top not in ("drivers", "motcua_runtime") else None
    assert _violations(lambda m: _top(m) == "drivers", rule) == []


def test_config_and_runtime_import_nothing_of_ours():
    def rule(mod, target):
        top = _top(target)
        return "imports nothing of ours" if top in OURS and top != _top(mod) else None
    assert _violations(lambda m: _top(m) in ("config", "motcua_runtime"), rule) == []


def test_queue_and_store_import_no_flask():
    def rule(_mod, target):
        return "the engine and the store work without a web server" if _top(target) in FLASK else None
    assert _violations(lambda m: _within(m, "motcua.queue", "motcua.store"), rule) == []


def test_only_the_device_layer_imports_drivers():
    def rule(_mod, target):
        return "devices are reached through motcua.devices" if _top(target) == "drivers" else None
    assert _violations(lambda m: _top(m) not in ("drivers", "agent") and not _within(m, "motcua.devices"), rule) == []


def test_the_agent_imports_drivers_and_the_protocol_only():
    """The agent runs on a kiosk PC without the server: never the core, the config or a screen."""
    def rule(_mod, target):
        top = _top(target)
        if top in OURS and top not in ("agent", "drivers", "motcua_runtime", "agentproto"):
            return "the agent uses drivers/ and agentproto only"
        return None
    assert [m for m in FILES if _top(m) == "agent"], "the agent package is there"
    assert _violations(lambda m: _top(m) == "agent", rule) == []


def test_the_protocol_imports_nothing_of_ours():
    def rule(_mod, target):
        return "a neutral protocol module" if _top(target) in OURS and _top(target) != "agentproto" else None
    assert _violations(lambda m: _top(m) == "agentproto", rule) == []


def test_routes_import_no_table():
    def rule(_mod, target):
        return "routes use the domain's read models and commands" if _within(target, "motcua.store.tables") else None
    assert _violations(lambda m: _within(m, "motcua.api", *SCREENS), rule) == []


def test_no_import_cycles():
    """Between modules, counting the imports that run when a module is imported."""
    graph = {m: sorted({t for t, at_import, _ in found if at_import and t in FILES and t != m})
             for m, found in IMPORTS.items()}
    # A module also runs its parent packages' __init__ first: count `from pkg import x`
    # where x is an attribute of pkg as an edge to pkg itself (it is, in _Imports).
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert cycles == []


def test_no_module_over_600_lines():
    long = []
    for name, path in FILES.items():
        if "migrations" in path.parts:
            continue
        n = sum(1 for _ in path.open(encoding="utf-8"))
        if n > MAX_LINES:
            long.append(f"{path.relative_to(ROOT)}: {n} lines")
    assert long == []


@pytest.mark.parametrize("rule", [test_screens_import_the_core_only, test_drivers_import_nothing_of_ours_but_the_runtime_module,
                                  test_the_agent_imports_drivers_and_the_protocol_only,
                                  test_the_protocol_imports_nothing_of_ours])
def test_the_checker_sees_a_violation(rule, monkeypatch):
    """The rules can fail: a screen importing a driver and a driver importing the core are caught."""
    fake = {"kiosk.fake": [("drivers.printer", True, 1)], "drivers.fake": [("motcua.queue", True, 1)],
            "agent.fake": [("motcua.devices", False, 1)], "agentproto.fake": [("drivers.printer", True, 1)]}
    monkeypatch.setattr(__import__(__name__), "IMPORTS", {**IMPORTS, **fake}, raising=True)
    monkeypatch.setitem(FILES, "kiosk.fake", ROOT / "kiosk" / "fake.py")
    monkeypatch.setitem(FILES, "drivers.fake", ROOT / "drivers" / "fake.py")
    monkeypatch.setitem(FILES, "agent.fake", ROOT / "agent" / "fake.py")
    monkeypatch.setitem(FILES, "agentproto.fake", ROOT / "agentproto" / "fake.py")
    with pytest.raises(AssertionError):
        rule()
