"""Generated structures, and the differential check: the learner's function against the reference on them.

The fixed inputs of an exercise's other checks are a few shapes and models; a mistake that shows only on
a structure they lack (a forward hook, ties, a size-1 dimension, a 0-d parameter, a view...) gets through
them. A differential check draws inputs from a space of structures, runs the learner's function and the
check's reference (an `oracle`) on two copies of each, compares everything observable, and reports the
smallest input that shows a difference.

One module per concern, everything imported from here (`from checks.structures import ...`): `space`
(`Case`, `Space`), `builders` (`MODEL_SPACE`, `model_for`, `batch_for`, `TENSOR_SPACE`, `tensor_for`, and
`describe_case`, the default description of every space), `observations` (`Seen`, `observe`: what a
call did) and `differential` (`compare`, `Difference`, `message`, `DIFFERS`, `RAISES`, `field_is`,
`mode_changed`, `gradients_seen`, `preparing`).

The API (stable: the checks of every exercise build on it):

- `Space(**dims, valid=None, describe=None)` (`space`): the structures an exercise's contract allows, one
  named dimension per feature, each a tuple of choices, the simplest first. `space.only(dim=choices, ...)`
  narrows or replaces dimensions; `space.cases(seed, extra=1)` are the inputs to try, in order: a few
  cases that between them hold every choice of every dimension (the simplest case with up to `width`
  structures added, pairs of dimensions that would hide each other's effect kept `apart`), then `extra`
  seeded random mixes; where a mixed case differs, the first of its structures that differs alone is
  where shrinking starts; `space.simpler(case)` are the cases one step simpler (what shrinking tries).
  `space.describe(case)` says what a case is, in words ("a 1-layer model with a forward hook").
- `Case` (`space`): one point of a space; `case.hook`, `case["hook"]`, `case.get("hook", default)`.
- `MODEL_SPACE` and `model_for(case, in_features, out_features)` (`builders`): models of every structure
  below (layers, nesting, a root parameter, a 0-d parameter, a forward hook, batch norm, dropout, tied
  weights, frozen mixes, modes, dtypes, pre-filled `.grad`, ties in the scores, size-1 outputs);
  `batch_for(case)` the batch size (1 is a size-1 dimension).
- `TENSOR_SPACE` and `tensor_for(case)` (`builders`): tensors of every shape (size-1 dimensions, 0-d),
  layout (contiguous, transposed, a view into a larger tensor), device (the CPU, or simulated non-CPU
  devices of `checks.instruments.off_cpu`), dtype, history (a leaf, a leaf that requires grad, a computed
  tensor) and `.grad` (none, or already filled: on a leaf that requires grad, or on one frozen since).
- `compare(learner, reference, space, build, *, fn_name, ...)` (`differential`): the differential check.
  `build(case)` returns the call's arguments, a dict by parameter name (it runs under a generator seeded per
  case, so it is called once per copy and gives equal, independent inputs: no `deepcopy`, which computed
  tensors refuse); the reference and the learner's function each get one copy, under the same random stream
  and in the caller's grad mode of the case (`caller`: "grad-enabled", default, or "inside-no_grad"). What
  is compared (`observe`, in `observations`): the result (its kind, length, shape, dtype, device, values,
  requires_grad, grad_fn present or not, is_leaf, which input it is or shares memory with), every input
  after the call (the same fields, whether a tensor changed in place (its version counter), its `.grad`
  (values, and whether it is still the same object), every module's mode, parameter (still the same object)
  and buffer), the grad mode after the call, and what `probe(args, result)` adds (a backward through the
  result...). At the first case that differs it shrinks: it moves one dimension at a time towards its
  simplest choice while the difference stays, and raises an AssertionError whose message says the smallest
  input, the field that differs with both values, and, only where one of `known` matches, that mistake's
  explanation (else `DIFFERS`, which names no cause). A learner's function that raises is reported as the
  exception on the smallest input that raises it, with `explain_errors`' advice.
- `Difference` (`differential`): what a `known` predicate is given: `field`, `mine`, `theirs` (the learner's
  and the reference's values), `case`, `raised` (the learner's exception, or None), `args` (the learner's
  copy of the arguments, after the call), `result` (what the learner's function returned), and `again(fn)`:
  what `fn` returns on a fresh copy of the input, to verify a suspected mistake by recomputing it before its
  explanation is given.
- `known` pairs a predicate with a `Mistake`, or with a function of the `Difference` that returns one (to fill
  in a template); `field_is(*fragments)`: a predicate, the differing field contains one of the fragments;
  `mode_changed(diff)`: a module's mode that differs, in words.

- `preparing()` (`differential`, which holds what it keeps): a grading process about to fork a process for
  each of several submissions runs the differential checks once inside it, before any learner's code:
  `compare` then runs only the reference on each case it would try and keeps what it observed (by function
  name, the reference's name, seed and case), and the processes forked afterwards run only the learner's
  side of those cases.

Mark each reference with `checks.instruments.oracle`; the learner's code never sees it.
"""

from .space import Case, Space, set_default_description  # noqa: F401
from .builders import (  # noqa: F401  (sets describe_case as every space's default description)
    Block, Generated, MODEL_SPACE, batch_for, model_for, TENSOR_SPACE, tensor_for, describe_case,
)
from .observations import Seen, observe  # noqa: F401
from .differential import (  # noqa: F401
    Difference, DIFFERS, RAISES, Known, preparing, is_preparing, not_called, compare, message, mode_changed,
    field_is, gradients_seen,
)
