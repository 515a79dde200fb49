"""The differential check: `compare`, the learner's function against the reference on the cases of a
space, shrunk to the smallest input that differs, and its message (`message`, `DIFFERS`, `RAISES`, with
`known` mistakes: `Difference`, `field_is`, `mode_changed`); `gradients_seen` for a probe; and the
preparation of the reference's side before any learner's code (`preparing`, `is_preparing`, `not_called`),
whose state (`_PREPARED`, `_PREPARING`) lives here only.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from checks.instruments import Mistake, as_mistake, describe_args, explanation, head

from .observations import Seen, _before, _same, observe
from .space import Case, Space


def _positional(fn, args: dict):
    return fn(*args.values())


@dataclass
class Difference:
    """The first field where the learner's function and the reference differ, on `case`."""

    field: str
    mine: Any  # the learner's value (a `Seen.key`), None where the field is missing
    theirs: Any  # the reference's
    mine_text: str
    theirs_text: str
    case: Case
    raised: BaseException | None = None
    args: dict | None = None  # the learner's copy of the arguments (after the call)
    result: Any = None  # what the learner's function returned
    fresh: Callable[[], dict] | None = None  # a new copy of the case's arguments, as they were before the call

    def again(self, fn: Callable):
        """What `fn` returns on a fresh copy of the case's input (under the random stream of the calls): to
        verify a suspected mistake by recomputing it, e.g. `torch.allclose(diff.again(without_hooks), ...)`."""
        args = self.fresh()
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(self.call_seed)
            return self.call(fn, args)

    call_seed: int = 0  # the seed of the random stream the calls ran under
    call: Callable = _positional  # how the functions are called on the arguments


DIFFERS = Mistake(
    "any.differs_from_reference", "a result or a side effect that differs from the reference on a generated input",
    "On {input} (the smallest generated input that shows it), {field} differs: the reference gives {theirs}, "
    "{fn_name} gives {mine}\nThe other checks' inputs did not show it; the docstring's contract says what is "
    "expected on such an input. Call {fn_name} yourself on an input like this one and compare."
)
RAISES = Mistake(
    "any.raises_on_generated_input", "an exception on a generated input the contract allows",
    "On {input} (the smallest generated input that shows it), {fn_name} raised where the reference returns. "
    "{explanation}"
)

Known = tuple  # (predicate: Difference -> bool, Mistake): a known mistake's explanation, where it matches


def _seeded(seed: int, case: Case) -> int:
    return zlib.crc32(f"{seed}:{case!r}".encode())


def _call(fn, args: dict, case: Case, seed: int, probe, call=_positional):
    """Run `fn` on `args` as the caller of `case` would: what it raised, what was seen, what it returned."""
    before = _before(args)
    outer = torch.is_grad_enabled()
    inside = case.get("caller", "grad-enabled") == "grad-enabled"
    raised, result = None, None
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(_seeded(seed, case) + 1)
        torch.set_grad_enabled(inside)
        try:
            try:
                result = call(fn, args)
            except (AssertionError, NotImplementedError, MemoryError):
                raise
            except Exception as exc:  # the learner's function raised: a difference of its own
                raised = exc
            seen = [] if raised else observe(args, result, before, inside)
        finally:
            torch.set_grad_enabled(outer)
        if raised is None and probe is not None:
            try:
                seen += list(probe(args, result))
            except (AssertionError, NotImplementedError, MemoryError):
                raise
            except Exception as exc:
                seen.append(Seen("what the probe after the call did", f"raised {type(exc).__name__}",
                                 f"raised {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
    return raised, seen, result


def _build(build, case: Case, seed: int) -> dict:
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(_seeded(seed, case))
        return build(case)


# The reference's side of the cases a differential check tries, kept by a grading process that grades
# several submissions before it forks the processes that grade them (`preparing`): each of them then runs
# only the learner's side. The key: (fn_name, the reference's qualified name, seed, case).
_PREPARED: dict[tuple, list[Seen]] = {}
_PREPARING: list[bool] = []


@contextlib.contextmanager
def preparing():
    """While it lasts, `compare` runs the reference alone on each case it would try, keeps what it
    observed for the calls that follow (in this process and those forked from it), and returns; the
    learner's function is not called (the `learner` fixture gives one that must not be: `not_called`)."""
    _PREPARING.append(True)
    try:
        yield
    finally:
        _PREPARING.pop()


def is_preparing() -> bool:
    return bool(_PREPARING)


def not_called(*_, **__):
    raise AssertionError("the learner's function is not called while the reference's side is prepared")


def _reference_side(reference, build, case: Case, seed: int, probe, call) -> list[Seen]:
    ref_raised, theirs, _ = _call(reference, _build(build, case, seed), case, seed, probe, call)
    if ref_raised is not None:
        raise ref_raised  # the reference must accept every generated input: a defect of the check
    return theirs


def _difference(learner, reference, build, case: Case, seed: int, probe, rtol, atol,
                call=_positional, key: tuple = ()) -> Difference | None:
    theirs = _PREPARED.get((*key, case)) if key else None
    if theirs is None:
        theirs = _reference_side(reference, build, case, seed, probe, call)
    mine_args = _build(build, case, seed)
    raised, mine, result = _call(learner, mine_args, case, seed, probe, call)
    found = None
    if raised is not None:
        found = Difference("what happens", f"raised {type(raised).__name__}", "returns",
                           f"raised {type(raised).__name__}", "returns", case, raised, mine_args)
    got = {s.field: s for s in mine}
    for want in theirs if found is None else ():
        have = got.get(want.field)
        if have is None or not _same(have.key, want.key, rtol, atol):
            found = Difference(want.field, None if have is None else have.key, want.key,
                               "nothing of the kind" if have is None else have.shown, want.shown, case, None,
                               mine_args)
            break
    if found is not None:
        found.fresh = lambda: _build(build, case, seed)
        found.call_seed, found.call, found.result = _seeded(seed, case) + 1, call, result
    return found


def compare(learner: Callable, reference: Callable, space: Space, build: Callable[[Case], dict], *, fn_name: str,
            known: Sequence[Known] = (), explanations: dict[str, str] | None = None,
            probe: Callable[[dict, Any], Iterable[Seen]] | None = None, seed: int | None = None, extra: int = 1,
            rtol: float = 1e-5, atol: float = 1e-6, call: Callable[[Callable, dict], Any] = _positional) -> None:
    """The differential check: fail with a learner's message at the smallest case of `space` where `learner`
    and `reference` differ in anything observable (see `checks.structures`' docstring); return None when
    none does.

    `known` are `(predicate, Mistake)` pairs: the first whose predicate matches the `Difference` gives its
    explanation (and its id); `explanations` are `explain_errors`' patterns for an exception of the learner's
    code; `seed` defaults to the seed the check runs with; `extra` is the number of random mixes tried after
    every structure alone; `call(fn, args)` calls a function on the arguments (default: `fn(*args.values())`;
    another passes, for instance, a generator over a list that stays observed)."""
    seed = torch.initial_seed() if seed is None else seed
    key = (fn_name, getattr(reference, "__qualname__", repr(reference)), seed)
    if _PREPARING:
        for case in space.cases(seed, extra):
            _PREPARED[(*key, case)] = _reference_side(reference, build, case, seed, probe, call)
        return
    run = lambda fn_, case_: _difference(fn_, reference, build, case_, seed, probe, rtol, atol, call, key)  # noqa: E731
    for case in space.cases(seed, extra):
        diff = run(learner, case)
        if diff is not None:
            break
    else:
        return
    for single in space.alone(diff.case):  # a mixed case: shrink from the first structure that shows it alone
        found = run(learner, single)
        if found is not None and (found.raised is None) == (diff.raised is None):
            diff = found
            break
    diff = _shrink(lambda case_: run(learner, case_), space, diff)
    raise AssertionError(message(diff, space, fn_name, known, explanations))


def _shrink(differs: Callable[[Case], Difference | None], space: Space, diff: Difference) -> Difference:
    """Move towards simpler cases while a difference stays (a raise stays a raise)."""
    progress = True
    while progress:
        progress = False
        for smaller in space.simpler(diff.case):
            found = differs(smaller)
            if found is not None and (found.raised is None) == (diff.raised is None):
                diff, progress = found, True
                break
    return diff


def message(diff: Difference, space: Space, fn_name: str, known: Sequence[Known] = (),
            explanations: dict[str, str] | None = None) -> str:
    """The learner's message for a difference: the input, the field and both values, a known mistake's
    explanation where one matches (the message is then that `Mistake`), else `DIFFERS`."""
    words = space.describe(diff.case)
    if diff.raised is not None:
        explained = explanation(fn_name, diff.raised, explanations or {},
                                called_with=describe_args(**diff.args) if diff.args else None)
        text = RAISES.says(input=words, fn_name=fn_name, explanation=explained)
        return as_mistake(explained, text) if hasattr(explained, "mistake_id") else text
    shown = DIFFERS.says(input=words, field=diff.field, theirs=diff.theirs_text, fn_name=fn_name, mine=diff.mine_text)
    for matches, mistake in known:
        if matches(diff):
            mistake = mistake(diff) if callable(mistake) else mistake
            head_ = str(shown).split("\nThe other checks", 1)[0]
            return mistake.reworded(f"{head_}\n{mistake}")
    return shown


def mode_changed(diff: Difference) -> str:
    """A difference of a module's mode in words: "module body.0 is in train mode after the call, where the
    reference leaves it in eval mode" (for a `changes` field of a known mistake's message)."""
    where = diff.field.removeprefix("the mode of ").removesuffix(" after the call")
    name = where.split(".", 1)[1] if "." in where else "(the model)"
    return f"module {name} is in {diff.mine_text} mode after the call, where the reference leaves it in {diff.theirs_text} mode"


def field_is(*fragments: str) -> Callable[[Difference], bool]:
    """A `known` predicate: the differing field contains one of `fragments`."""
    return lambda diff: any(f in diff.field for f in fragments)


def gradients_seen(modules: dict[str, nn.Module], after: str) -> Iterator[Seen]:
    """What a probe reports after it ran a backward (`after` says which, in words): for each named module,
    which of its parameters have a `.grad`, and their values."""
    for owner, module in modules.items():
        grads = [(n, p.grad) for n, p in module.named_parameters()]
        names = tuple(n for n, g in grads if g is not None)
        yield Seen(f"{owner}'s parameters with a .grad after {after}", names, ", ".join(names) or "none")
        values = torch.cat([g.detach().reshape(-1).double() for _, g in grads if g is not None] or [torch.zeros(0)])
        yield Seen(f"{owner}'s gradients after {after}", values, lambda v=values: head(v))
