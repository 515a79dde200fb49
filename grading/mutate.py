"""Mutation testing of the checks: small wrong versions of each reference solution must fail.

Each mutant changes one thing in the body of a solution's function (see KINDS), the way a
learner's slip would: an operator, a constant, a missing statement, a `with torch.no_grad()`
left out, an in-place method where an out-of-place one belongs, `.data` for `.detach()`, ...
A mutant the checks pass "survives". A survivor is either equivalent to the solution (no
check could ever tell them apart: it is listed with the reason in the allowlist) or a gap in
the checks.

    python -m grading.dev mutate              # every exercise
    python -m grading.dev mutate ex03 ex06    # only these

Every mutant of an exercise is its own one-exercise submission, and all of them are graded in
one batch run (the checks collected once, a process per mutant).
"""

from __future__ import annotations

import ast
import copy
import difflib
import hashlib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from . import ROOT, SOLUTIONS_DIR
from .catalog import Exercise

ALLOWLIST = ROOT / "tests" / "mutants_allowed.toml"

# kind -> what it does (the ids and the summary use the kind's name)
KINDS = {
    "binop": "an arithmetic operator swapped (+ and -, * and /, // -> /, ** -> *), also in `x += y`",
    "compare": "a comparison swapped (< and <=, > and >=, == and !=, is and is not, in and not in)",
    "boolop": "`and` and `or` swapped",
    "unary": "`not x`, `~x` or `-x` turned into `x`",
    "constant": "a constant changed: True and False, 0 and 1, other numbers + 1",
    "delete": "a statement deleted (replaced by `pass`)",
    "unwrap": "`with torch.no_grad()`, `torch.enable_grad()`, `torch.inference_mode()` or "
              "`torch.set_grad_enabled(...)` removed, its body kept",
    "grad-mode": "torch.no_grad() and torch.enable_grad() swapped (torch.inference_mode() -> torch.enable_grad())",
    "inplace": "an in-place tensor method made out-of-place or the other way round (add_ and add, detach_ and "
               "detach, zero_ -> torch.zeros_like, requires_grad_ -> on a detached copy)",
    "data": "`.detach()` and `.data` swapped",
    "drop-call": "a call of .detach(), .detach_(), .item(), .clone(), .cpu() or .requires_grad_() dropped (x.item() -> x)",
    "return-none": "`return None` instead of the return value",
    "drop-kwarg": "a keyword argument dropped (its default used instead)",
    "rebind": "augmented assignment turned into rebinding (`p -= x` -> `p = p - x`)",
}

_BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
          ast.Pow: ast.Mult}
_COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
_BOOLOP = {ast.And: ast.Or, ast.Or: ast.And}
_GRAD_MODES = {"no_grad": "enable_grad", "enable_grad": "no_grad", "inference_mode": "enable_grad"}
_GRAD_CONTEXTS = {"no_grad", "enable_grad", "inference_mode", "set_grad_enabled"}
_DROPPED = {"detach", "detach_", "item", "clone", "cpu", "requires_grad_"}


def _tensor_methods() -> set[str]:
    """The names of torch.Tensor's methods (asked once, where torch is imported anyway)."""
    import torch

    return {name for name in dir(torch.Tensor) if not name.startswith("_")}


@dataclass
class Mutant:
    exercise: str
    kind: str
    line: int  # in the solution file
    col: int
    description: str  # "p -= lr * p.grad -> p = p - lr * p.grad"
    source: str  # the whole mutated module
    function: str  # the mutated function, as ast.unparse writes it
    original: str  # the solution's function, written the same way

    @property
    def id(self) -> str:
        """Stable while the function's code stays as it is: a docstring or comment edited, lines
        moved, leave it alone."""
        digest = hashlib.sha256(_code_only(self.function).encode()).hexdigest()[:8]
        return f"{self.exercise}:{self.kind}:{digest}"

    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            _code_only(self.original).splitlines(keepends=True), _code_only(self.function).splitlines(keepends=True),
            f"solutions/{self.exercise}.py", f"mutant {self.id}", n=1))


def _code_only(function_source: str) -> str:
    """A function without its docstring, as ast.unparse writes it."""
    node = ast.parse(function_source).body[0]
    if _docstring(node):
        node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(node) + "\n"


def _docstring(node) -> ast.Expr | None:
    first = node.body[0] if node.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first
    return None


def _line(node: ast.AST, limit: int = 160) -> str:
    """A statement as one line: a simple one whole, a compound one by its header."""
    text = ast.unparse(node).splitlines()[0]
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _attr_call(node, names=None) -> bool:
    """`x.name(...)`, with `name` among `names` where given."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
        names is None or node.func.attr in names)


def _load(target: ast.expr) -> ast.expr:
    """The target of an assignment, read instead of written."""
    node = copy.deepcopy(target)
    for sub in ast.walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = ast.Load()
    return node


def _grad_context(item: ast.withitem) -> bool:
    expr = item.context_expr
    return isinstance(expr, ast.Call) and (
        (isinstance(expr.func, ast.Attribute) and expr.func.attr in _GRAD_CONTEXTS)
        or (isinstance(expr.func, ast.Name) and expr.func.id in _GRAD_CONTEXTS))


def mutations(node: ast.AST, tensor_methods: set[str]):
    """(kind, make) for every mutation of this one node: make(a copy of node) returns what takes
    its place (a node, or a list of statements)."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOP:
        yield "binop", lambda n: ast.BinOp(n.left, _BINOP[type(n.op)](), n.right)
    if isinstance(node, ast.AugAssign):
        if type(node.op) in _BINOP:
            yield "binop", lambda n: ast.AugAssign(n.target, _BINOP[type(n.op)](), n.value)
        yield "rebind", lambda n: ast.Assign([n.target], ast.BinOp(_load(n.target), n.op, n.value))
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _COMPARE:
                yield "compare", lambda n, i=i: ast.Compare(
                    n.left, [(_COMPARE[type(o)]() if k == i else o) for k, o in enumerate(n.ops)], n.comparators)
    if isinstance(node, ast.BoolOp):
        yield "boolop", lambda n: ast.BoolOp(_BOOLOP[type(n.op)](), n.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert, ast.USub)):
        yield "unary", lambda n: n.operand
    if isinstance(node, ast.Constant) and type(node.value) in (bool, int, float):
        yield "constant", lambda n: ast.Constant(_changed(n.value))
    if isinstance(node, ast.stmt) and not isinstance(node, (ast.Return, ast.Pass)):
        yield "delete", lambda n: ast.Pass()
    if isinstance(node, ast.With) and any(_grad_context(item) for item in node.items):
        def unwrap(n):
            kept = [item for item in n.items if not _grad_context(item)]
            return ast.With(kept, n.body) if kept else n.body
        yield "unwrap", unwrap
    if isinstance(node, ast.Call):
        yield from _call_mutations(node, tensor_methods)
    if isinstance(node, ast.Attribute) and node.attr == "data" and isinstance(node.ctx, ast.Load):
        yield "data", lambda n: ast.Call(ast.Attribute(n.value, "detach", ast.Load()), [], [])
    if isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        yield "return-none", lambda n: ast.Return(ast.Constant(None))


def _call_mutations(node: ast.Call, tensor_methods: set[str]):
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name in _GRAD_MODES and not node.args and not node.keywords:
        def swap(n):
            if isinstance(n.func, ast.Attribute):
                n.func.attr = _GRAD_MODES[name]
            else:
                n.func.id = _GRAD_MODES[name]
            return n
        yield "grad-mode", swap
    for i, keyword in enumerate(node.keywords):
        if keyword.arg is not None:
            yield "drop-kwarg", lambda n, i=i: ast.Call(n.func, n.args, n.keywords[:i] + n.keywords[i + 1:])
    if not isinstance(func, ast.Attribute):
        return
    attr = func.attr
    if attr == "zero_" and not node.args:
        yield "inplace", lambda n: ast.Call(
            ast.Attribute(ast.Name("torch", ast.Load()), "zeros_like", ast.Load()), [n.func.value], [])
    elif attr == "requires_grad_":
        yield "inplace", lambda n: ast.Call(ast.Attribute(
            ast.Call(ast.Attribute(n.func.value, "detach", ast.Load()), [], []), attr, ast.Load()), n.args, n.keywords)
    elif attr.endswith("_") and not attr.endswith("__") and attr[:-1] in tensor_methods:
        yield "inplace", lambda n: _renamed(n, attr[:-1])
    elif attr + "_" in tensor_methods and attr in tensor_methods:
        yield "inplace", lambda n: _renamed(n, attr + "_")
    if attr == "detach" and not node.args and not node.keywords:
        yield "data", lambda n: ast.Attribute(n.func.value, "data", ast.Load())
    if attr in _DROPPED:
        yield "drop-call", lambda n: n.func.value


def _renamed(call: ast.Call, attr: str) -> ast.Call:
    call.func.attr = attr
    return call


def _changed(value):
    if isinstance(value, bool):
        return not value
    if value in (0, 1):
        return type(value)(1 - value)
    return value + 1


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, make):
        self.target, self.make = target, make

    def visit(self, node):
        if node is self.target:
            return self.make(node)
        return self.generic_visit(node)


def _sites(function: ast.FunctionDef) -> list[ast.AST]:
    """The nodes of the function's body (not its signature or docstring), in a fixed order."""
    doc = _docstring(function)
    nodes = []
    for stmt in function.body:
        if stmt is not doc:
            nodes.extend(ast.walk(stmt))
    return nodes


def generate(exercise_id: str, source: str, function_name: str, tensor_methods: set[str] | None = None) -> list[Mutant]:
    """Every mutant of `function_name` in the module `source`, one per distinct mutated code."""
    tensor_methods = _tensor_methods() if tensor_methods is None else tensor_methods
    tree = ast.parse(source)
    function = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and n.name == function_name), None)
    if function is None:
        raise ValueError(f"{exercise_id}: no top-level function {function_name!r}")
    lines = source.splitlines(keepends=True)
    first = min([function.lineno] + [d.lineno for d in function.decorator_list]) - 1
    before, after = "".join(lines[:first]), "".join(lines[function.end_lineno:])
    original = ast.unparse(function) + "\n"
    seen = {_code_only(original)}
    sites = _sites(function)
    owner: dict[int, int] = {}  # index of a node -> index of the innermost statement holding it
    for j, node in enumerate(sites):
        if isinstance(node, ast.stmt):
            for inner in ast.walk(node):
                owner[id(inner)] = j
    mutants = []
    for index, node in enumerate(sites):
        for kind, make in mutations(node, tensor_methods):
            clone = copy.deepcopy(function)
            clone_sites = _sites(clone)
            holder = clone_sites[owner[id(node)]]
            made = []
            mutated = _Replace(clone_sites[index], lambda n, make=make: made.append(make(n)) or made[0]).visit(clone)
            ast.fix_missing_locations(mutated)
            text = ast.unparse(mutated) + "\n"
            code = _code_only(text)
            if code in seen:
                continue  # the same program as the solution or as another mutant
            try:
                compile(code, "<mutant>", "exec")
            except SyntaxError:  # e.g. `continue` left outside a loop
                continue
            seen.add(code)
            mutants.append(Mutant(exercise_id, kind, node.lineno, node.col_offset + 1,
                                  _describe(kind, node, made[0], sites[owner[id(node)]], holder), before + text + after, text, original))
    return sorted(mutants, key=lambda m: (m.line, m.col))


def _describe(kind: str, node: ast.AST, new, holder: ast.stmt, mutated_holder: ast.stmt) -> str:
    """`old` -> `new`, statement by statement."""
    old = _line(node) if isinstance(node, ast.stmt) else None
    if kind == "delete":
        return f"`{old}` deleted" + (" (with its body)" if hasattr(node, "body") else "")
    if kind == "unwrap":
        kept = f"`{_line(new)}`" if isinstance(new, ast.stmt) else "the body"
        return f"`{old}` removed: {kept} kept"
    if isinstance(node, ast.stmt):
        return f"`{old}` -> `{_line(new)}`"
    return f"`{_line(holder)}` -> `{_line(mutated_holder)}`"  # an expression: its statement before and after


def solution_mutants(exercise: Exercise, tensor_methods: set[str] | None = None) -> list[Mutant]:
    path = SOLUTIONS_DIR / exercise.filename
    return generate(exercise.id, path.read_text(encoding="utf-8"), exercise.function, tensor_methods)


# ------------------------------------------------------------------ the allowlist


class AllowlistError(Exception):
    pass


@dataclass
class Allowed:
    id: str
    description: str
    reason: str


def load_allowlist(path: Path = ALLOWLIST) -> dict[str, Allowed]:
    """id -> entry, from `[[mutant]]` tables with id, description and reason."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AllowlistError(f"{path}: {exc}") from None
    entries: dict[str, Allowed] = {}
    for i, entry in enumerate(data.get("mutant", []), 1):
        missing = [key for key in ("id", "description", "reason")
                   if not isinstance(entry.get(key), str) or not entry[key].strip()]
        if missing:
            raise AllowlistError(f"{path}: mutant #{i} has no {', '.join(missing)} (each entry needs an id, "
                                 "a one-line description and the reason it is equivalent)")
        if entry["id"] in entries:
            raise AllowlistError(f"{path}: {entry['id']} is listed twice")
        entries[entry["id"]] = Allowed(entry["id"], entry["description"], entry["reason"])
    return entries


# ------------------------------------------------------------------ grading them


@dataclass
class Report:
    mutants: list[Mutant]
    survived: set[str]  # ids
    allowed: dict[str, Allowed]
    exercises: list[str]
    duration: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)  # exercise -> why its mutants could not be made

    def of(self, exercise_id: str) -> list[Mutant]:
        return [m for m in self.mutants if m.exercise == exercise_id]

    @property
    def explained(self) -> list[Mutant]:
        return [m for m in self.mutants if m.id in self.survived and m.id in self.allowed]

    @property
    def unexplained(self) -> list[Mutant]:
        return [m for m in self.mutants if m.id in self.survived and m.id not in self.allowed]

    @property
    def stale(self) -> list[Allowed]:
        """Allowlisted mutants of the exercises mutated here that are no longer made, or are killed."""
        made = {m.id for m in self.mutants}
        return [a for a in self.allowed.values() if a.id.split(":", 1)[0] in self.exercises
                and (a.id not in made or a.id not in self.survived)]

    @property
    def ok(self) -> bool:
        return not self.unexplained and not self.stale and not self.errors


def run(exercises: list[Exercise], *, allowlist: Path = ALLOWLIST, seed: int = 0, lanes: int | None = None,
        on_progress=None) -> Report:
    """Make every mutant of each exercise's solution and grade them: one batch run per exercise."""
    from .runner import grade_many

    allowed = load_allowlist(allowlist)
    started = time.perf_counter()
    methods = _tensor_methods()
    report = Report([], set(), allowed, [ex.id for ex in exercises])
    with tempfile.TemporaryDirectory(prefix="kata-mutants-") as scratch:
        for ex in exercises:
            try:
                mutants = solution_mutants(ex, methods)
            except (OSError, SyntaxError, ValueError) as exc:
                report.errors[ex.id] = str(exc)
                continue
            report.mutants.extend(mutants)
            targets = []
            for n, mutant in enumerate(mutants):
                folder = Path(scratch) / ex.id / f"m{n:03d}"
                folder.mkdir(parents=True)
                (folder / ex.filename).write_text(mutant.source, encoding="utf-8")
                targets.append(folder)
            if not targets:
                continue
            runs = grade_many(targets, [ex], seed=seed, lanes=lanes, isolation="submission")
            for mutant, result in zip(mutants, runs):
                if result.exercise(ex.id).passed:
                    report.survived.add(mutant.id)
            if on_progress:
                on_progress(ex, mutants, report)
    report.duration = time.perf_counter() - started
    return report


def summary(report: Report) -> str:
    """What a developer reads: per exercise, then every survivor, the unexplained ones with their diff."""
    out = []
    killed_all = sum(1 for m in report.mutants if m.id not in report.survived)
    out.append(f"mutation testing: {len(report.mutants)} mutants of {len(report.exercises)} exercises, "
               f"{killed_all} killed, {len(report.explained)} survivors explained, "
               f"{len(report.unexplained)} unexplained ({report.duration:.1f} s)")
    width = max((len(e) for e in report.exercises), default=0)
    for exercise_id in report.exercises:
        mine = report.of(exercise_id)
        if exercise_id in report.errors:
            out.append(f"  {exercise_id:{width}}  no mutants: {report.errors[exercise_id]}")
            continue
        survivors = [m for m in mine if m.id in report.survived]
        explained = sum(1 for m in survivors if m.id in report.allowed)
        line = f"  {exercise_id:{width}}  {len(mine):3d} mutants  {len(mine) - len(survivors):3d} killed"
        if explained:
            line += f"  {explained} explained"
        if len(survivors) > explained:
            line += f"  {len(survivors) - explained} UNEXPLAINED"
        out.append(line)
    if report.explained:
        out.append("")
        out.append("survivors explained (equivalent to the solution, see the allowlist):")
        for m in report.explained:
            out.append(f"  {m.id}  solutions/{m.exercise}.py:{m.line}:{m.col}  {m.description}")
            out.append(f"      {report.allowed[m.id].reason}")
    if report.unexplained:
        out.append("")
        out.append("survivors NOT explained: every check passes on these wrong versions of the solution.")
        out.append("Make a check catch the mistake (with a corpus wrong_ file), or, if the mutant is equivalent to")
        out.append(f"the solution, list it in {_shown(ALLOWLIST)} with the reason:")
        for m in report.unexplained:
            out.append("")
            out.append(f"  {m.id}  solutions/{m.exercise}.py:{m.line}:{m.col}  ({m.kind}: {KINDS[m.kind]})")
            out.append(f"  {m.description}")
            out.extend("    " + line for line in m.diff().rstrip("\n").splitlines())
        out.append("")
        out.append("allowlist entries for them (fill in the reason once you have shown each equivalent):")
        for m in report.unexplained:
            out.append("")
            out.append(toml_entry(m.id, m.description, "equivalent: ..."))
    if report.stale:
        out.append("")
        out.append(f"allowlist entries to remove from {_shown(ALLOWLIST)} (the mutant is killed now, or no longer made):")
        for a in report.stale:
            out.append(f"  {a.id}  {a.description}")
    return "\n".join(out)


def toml_entry(mutant_id: str, description: str, reason: str) -> str:
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return f"[[mutant]]\nid = {q(mutant_id)}\ndescription = {q(description)}\nreason = {q(reason)}"


def _shown(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)
