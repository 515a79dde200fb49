"""Spaces of structures: `Case`, one point of a space, and `Space`, the structures an exercise allows
(the cases to try, in order, and the cases one step simpler, which shrinking tries).

A space built without `describe` says its cases with the default description, `describe_case` of
`checks.structures.builders`, which needs the spaces built from `Space` (`MODEL_SPACE`, `TENSOR_SPACE`):
so this module does not import it; the builders set it here when they are imported
(`set_default_description`), and the package `checks.structures` always imports them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any


class Case:
    """One point of a `Space`: a choice for each dimension, readable as attributes (`case.hook`)."""

    __slots__ = ("_items", "_by_name")

    def __init__(self, items: Iterable[tuple[str, Any]]):
        items = tuple(items)
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_by_name", dict(items))

    def __getattr__(self, name):
        try:
            return object.__getattribute__(self, "_by_name")[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name):
        return getattr(self, name)

    def get(self, name, default=None):
        return self._by_name.get(name, default)

    def replace(self, **changes) -> "Case":
        return Case((k, changes.get(k, v)) for k, v in self._items)

    def items(self):
        return self._items

    def __eq__(self, other):
        return isinstance(other, Case) and self._items == other._items

    def __hash__(self):
        return hash(self._items)

    def __repr__(self):
        return "Case(" + ", ".join(f"{k}={v!r}" for k, v in self._items) + ")"


class Space:
    """The structures an exercise allows: named dimensions, each a tuple of choices, the simplest first.

    `valid(case)` rejects combinations that make no sense (a `.grad` on a tensor that does not require
    grad); `describe(case)` says a case in words (default: `describe_case`, set by
    `set_default_description`); `apart` are pairs of
    dimensions whose structures would hide each other's effect (a forward hook that breaks the ties of
    the scores), never mixed in one of `cases`; `width` is the most structures one of them mixes."""

    def __init__(self, valid: Callable[[Case], bool] | None = None,
                 describe: Callable[[Case], str] | None = None, apart: Iterable[tuple[str, str]] = (),
                 width: int = 4, **dims: Sequence):
        self.dims = {name: tuple(choices) for name, choices in dims.items()}
        self.apart, self.width = frozenset(tuple(pair) for pair in apart), width
        empty = [name for name, choices in self.dims.items() if not choices]
        if empty:
            raise ValueError(f"dimensions without a choice: {empty}")
        self.valid = valid or (lambda case: True)
        self._describe = describe

    def only(self, valid: Callable[[Case], bool] | None = None, describe: Callable[[Case], str] | None = None,
             apart: Iterable[tuple[str, str]] = (), width: int | None = None, **dims: Sequence) -> "Space":
        """This space with some dimensions narrowed or replaced (or added), the others kept (`apart` adds
        pairs of dimensions never mixed in one case)."""
        return Space(valid=valid or self.valid, describe=describe or self._describe, apart={*self.apart, *apart},
                     width=width or self.width, **{**self.dims, **dims})

    def simplest(self) -> Case:
        return Case((name, choices[0]) for name, choices in self.dims.items())

    def cases(self, seed: int, extra: int = 1) -> list[Case]:
        """The inputs to try: a few cases that between them hold every choice of every dimension (each the
        simplest case with up to `width` structures added, never two dimensions of `apart` together), then
        `extra` random mixes (seeded); the simplest case alone only where there is no other."""
        base = self.simplest()
        found = [base]
        pending = [(name, choice) for name, choices in self.dims.items() for choice in choices[1:]]
        while pending:
            case, took = self._filled(base, pending, keep_apart=True)
            if not took:  # what is left needs a pair kept apart, or another structure to be valid at all
                case, took = self._filled(base, pending, keep_apart=False)
            if not took:
                case, took = self._enabled(base, pending)
            if not took:  # valid in no case: the space's `valid` leaves these choices out
                break
            found.append(case)
            pending = [p for p in pending if p not in took]
        rng, mixes = random.Random(seed), 0
        for _ in range(extra * 10):
            if mixes >= extra:
                break
            mix = Case((name, rng.choice(choices)) for name, choices in self.dims.items())
            if self.valid(mix) and mix not in found:
                found.append(mix)
                mixes += 1
        tried = [c for c in self._unique(found) if self.valid(c)]
        # the simplest case on its own only where nothing else is tried: every other case holds it, with a
        # few structures added to it (and the fixed checks try it), and shrinking ends at it
        others = [c for c in tried if c != base]
        return others or tried

    def _filled(self, case: Case, pending: list, keep_apart: bool) -> tuple[Case, list]:
        """`case` with as many of the `pending` choices as fit (valid, up to `width`), and those taken."""
        took: list = []
        grew = True
        while grew and len(took) < self.width:
            grew = False
            for name, choice in pending:
                if len(took) >= self.width or any(name == n or (keep_apart and self._kept_apart(name, n))
                                                  for n, _ in took):
                    continue
                trial = case.replace(**{name: choice})
                if self.valid(trial):
                    case, took, grew = trial, took + [(name, choice)], True
        return case, took

    def _enabled(self, base: Case, pending: list) -> tuple[Case, list]:
        """A case for a pending choice that is valid only beside another structure (batch norm only in eval
        mode): the first such pair found."""
        for name, choice in pending:
            for other, choices in self.dims.items():
                for alt in choices[1:] if other != name else ():
                    trial = base.replace(**{name: choice, other: alt})
                    if self.valid(trial):
                        return trial, [p for p in ((name, choice), (other, alt)) if p in pending]
        return base, []

    def _kept_apart(self, a: str, b: str) -> bool:
        return (a, b) in self.apart or (b, a) in self.apart

    def alone(self, case: Case) -> list[Case]:
        """The valid cases that hold one structure of `case` each (its other dimensions at their simplest),
        in the order of the dimensions: where a mixed case differs, the first of these that differs too is
        the smaller input to show."""
        base = self.simplest()
        singles = [base.replace(**{name: case[name]}) for name in self.dims if case[name] != base[name]]
        return [c for c in singles if self.valid(c)] if len(singles) > 1 else []

    @staticmethod
    def _unique(cases):
        seen, out = set(), []
        for c in cases:
            if c not in seen:
                seen.add(c)
                out.append(c)
        return out

    def simpler(self, case: Case) -> Iterator[Case]:
        """The valid cases one step simpler than `case`: a dimension set to its simplest choice, or one back."""
        for name, choices in self.dims.items():
            at = choices.index(case[name]) if case[name] in choices else 0
            for index in dict.fromkeys((0, at - 1)):
                if 0 <= index < at:
                    smaller = case.replace(**{name: choices[index]})
                    if self.valid(smaller):
                        yield smaller

    def describe(self, case: Case) -> str:
        return (self._describe or _DEFAULT_DESCRIPTION[0])(case)


def _undescribed(case: Case) -> str:
    raise LookupError("no default description of a case: import checks.structures, whose builders set it")


# what `Space.describe` says a case with, where the space was given no `describe` of its own: one
# function, set by `set_default_description` (`describe_case`, when checks.structures.builders is imported)
_DEFAULT_DESCRIPTION: list[Callable[[Case], str]] = [_undescribed]


def set_default_description(describe: Callable[[Case], str]) -> None:
    """From now on, a space built without `describe` says its cases with `describe`."""
    _DEFAULT_DESCRIPTION[:] = [describe]
