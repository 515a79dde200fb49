"""Shared instruments of the checks: how a result was made, not just what it is.

One module per concern (`mistakes`, `oracle`, `graphs`, `devices`, `models`, `snapshots`, `advice`,
`expectations`, `real`); everything is imported from here, `from checks.instruments import ...`.

- `count_saved_tensors()`: how many tensors autograd saved for backward in a block
  (zero means no graph was built, which a `.detach()` at the end cannot fake).
- `reaches(loss, tensor)`: whether a backward from `loss` would reach a leaf tensor.
- `OffCPUTensor` / `OffCPUNotCUDATensor` / `off_cpu()`: a simulated tensor on a non-CPU
  device (a CUDA GPU, or a device that is not CUDA) for machines without one;
  `devices_for_numpy()` adds a real CUDA device where there is one.
- `TinyLM`: a model with tied weights (one tensor held by two modules); `unique_parameters()` /
  `parameter_slots()`: a model's parameters each once, or once per module that holds them;
  `random_size()`: a layer size drawn from the check's seeded generator; `adam_settings_changed()`:
  an Adam's settings other than lr, where they are not the defaults.
- `snapshot(...)`: what a module (modes, parameters, buffers), a tensor (values, flags, history,
  gradient, version counter, memory) or a list of tensors was before the learner's function ran;
  `changes(before, model, what)` / `what_changed(modules, run, what)` / `listed(...)`: what
  changed since, in words; `assert_left_alone()` / `assert_restored_when_it_raises()`: the
  checks that a caller's modules are as they were; `head(...)` / `grad_fn_name(...)`: values
  and history in a message.
- `grad_mode_kept()`, `explain_errors()`, `expect_tensor()`, `expect_python_number()`:
  guards that turn a learner's mistake into a message saying what happened and what to do
  instead. Every call of a learner's function goes through `explain_errors`, with
  `describe_args(...)` saying what it was given: no exception of the learner's code reaches
  the learner without advice.
- `Mistake`: a known mistake, with a stable id ("ex03.rebinding") and a one-line title, that is
  also the learner's message: `assert ok, Mistake(id, title, message)`, declared once where the
  message is written. The grader reports the id and title with the failing check
  (`python -m grading.dev.mistakes` lists them all in docs/mistakes.md).
"""

from grading.core.mistakes import mistake_of  # noqa: F401  (one for the checks and the grader)

from .mistakes import (  # noqa: F401
    as_mistake, Mistake,
)
from .oracle import (  # noqa: F401
    oracle, ORACLE_WATCHERS,
)
from .graphs import (  # noqa: F401
    count_saved_tensors, graph_nodes, reaches, SavedTensors, shares_storage,
)
from .devices import (  # noqa: F401
    devices_for_numpy, off_cpu, OffCPUNotCUDATensor, OffCPUTensor, on_device, SIMULATED_DEVICES,
)
from .models import (  # noqa: F401
    adam_settings_changed, FailsOnPurpose, parameter_slots, random_size, TinyLM, unique_parameters,
)
from .snapshots import (  # noqa: F401
    assert_left_alone, assert_restored_when_it_raises, CHANGES, changes, grad_fn_name, head, listed,
    ModuleState, snapshot, TensorState, what_changed,
)
from .advice import (  # noqa: F401
    ADVICE_BY_TYPE, ADVICE_OTHERWISE, describe_args, describe_value, EVERYDAY_MISTAKES,
    explain_errors, explanation, NONE_ADVICE, OUT_OF_MEMORY, OWN_EXCEPTION, RaisedByTheCheck,
)
from .expectations import (  # noqa: F401
    expect_python_number, expect_tensor, grad_mode_kept, GRAD_MODE_LEFT_OFF, GRAD_MODE_LEFT_ON,
    INT_NOT_FLOAT,
)
from .real import (  # noqa: F401
    NOT_REAL, only_real_objects,
)
