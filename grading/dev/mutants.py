"""The mutants of a reference solution: small wrong versions of its function, made with `ast`.

Each mutant changes one thing in the body of the exercise's function (see KINDS), the way a
learner's slip would: an operator, a constant, a missing statement, a `with torch.no_grad()` left
out, an in-place method where an out-of-place one belongs, `.data` for `.detach()`, ... The
module around the function (its docstring, imports) stays as it is. `grading.dev.mutate` grades them.
"""

from __future__ import annotations

import ast
import copy
import difflib
import hashlib
from dataclasses import dataclass

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


def torch_tensor_methods() -> set[str]:
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


def mutations(node: ast.AST, methods: set[str]):
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
        yield from _call_mutations(node, methods)
    if isinstance(node, ast.Attribute) and node.attr == "data" and isinstance(node.ctx, ast.Load):
        yield "data", lambda n: ast.Call(ast.Attribute(n.value, "detach", ast.Load()), [], [])
    if isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        yield "return-none", lambda n: ast.Return(ast.Constant(None))


def _call_mutations(node: ast.Call, methods: set[str]):
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
    elif attr.endswith("_") and not attr.endswith("__") and attr[:-1] in methods:
        yield "inplace", lambda n: _renamed(n, attr[:-1])
    elif attr + "_" in methods and attr in methods:
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


def generate(exercise_id: str, source: str, function_name: str, methods: set[str] | None = None) -> list[Mutant]:
    """Every mutant of `function_name` in the module `source`, one per distinct mutated code."""
    methods = torch_tensor_methods() if methods is None else methods
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
        for kind, make in mutations(node, methods):
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
