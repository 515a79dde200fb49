"""Checks for ex15: evaluate(model, batches, loss_fn) is a validation loop in eval mode, without a
graph, weighting batch means by batch size, and handing the model back in the modes it came in."""

import copy
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from checks.instruments import (
    Mistake,
    RaisedByTheCheck,
    changes,
    count_saved_tensors,
    describe_args,
    expect_python_number,
    explain_errors,
    grad_mode_kept,
    listed,
    oracle,
    snapshot,
    what_changed,
)
from checks.structures import MODEL_SPACE, batch_for, compare, model_for

IN_FEATURES, WIDTH, OUT_FEATURES = 4, 16, 3
BATCHNORM = "3"  # the name of the batch-norm layer inside the model
NESTED_BATCHNORM = "1.1.1"  # ... inside the nested model

# id -> (loss, batch sizes, dtype); the model's weights and the data are random per check
DATA = {
    "cross-entropy-batches-5-3-7": ("cross_entropy", [5, 3, 7], torch.float32),
    "mse-batches-8-8-1": ("mse", [8, 8, 1], torch.float32),
    "mse-f64-batches-2-9-4": ("mse", [2, 9, 4], torch.float64),
}

# how the caller left its model: everything in train mode, everything in eval mode, or in train
# mode with the batch-norm layer frozen in eval mode (what freezing batch-norm does, ex12), also with that
# layer nested three levels deep
MODES = ["train", "eval", "frozen-batchnorm", "nested-frozen-batchnorm"]

ERRORS = {
    r"Expected more than 1 value per channel when training": Mistake(
        "ex15.batch_of_one_in_train_mode", "the model left in train mode, where batch norm refuses a batch of one",
        "The batch-norm layer refused a batch of one sample: in train mode it normalizes with the statistics "
        "of the batch itself, which one sample does not have. A validation loss is computed in eval mode: "
        "call `model.eval()` before the loop (and give every module its mode back afterwards)."
    ),
    r"division by zero": Mistake(
        "ex15.nothing_counted", "no sample counted (a second pass over a one-shot generator)",
        "No sample was counted. `batches` may be a one-shot generator (a DataLoader's iterator, a generator "
        "expression): a second pass over it sees nothing. Go through it once, adding up the weighted losses "
        "and counting the samples in the same loop."
    ),
    r"has no len\(\)|'generator' object is not subscriptable": Mistake(
        "ex15.batches_as_list", "`batches` used as a list (len, indexing) when it may be a generator",
        "`batches` may be a generator: it has no length and no indexing. Loop over it once with "
        "`for x, y in batches:`."
    ),
}

TRAIN_MODE = Mistake(
    "ex15.no_eval", "the model run in train mode (no model.eval())",
    "evaluate ran the model with modules in train mode ({modules}): dropout then zeroes random activations "
    "and batch-norm uses the batch's own statistics (and moves its running statistics), so the validation "
    "loss is noisy and wrong. Call `model.eval()` before the loop; `torch.no_grad()` alone does not change "
    "the mode."
)


class LossFnFailure(RaisedByTheCheck):
    """What the failing loss_fn of the checks raises."""


@pytest.fixture
def evaluate(learner):
    return learner


def make_model(dtype=torch.float32, mode="train"):
    if mode.startswith("nested"):  # the same layers, the batch-norm layer three levels deep
        model = nn.Sequential(
            nn.Linear(IN_FEATURES, WIDTH),
            nn.Sequential(nn.ReLU(), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(WIDTH))),
            nn.Linear(WIDTH, OUT_FEATURES),
        ).to(dtype)
    else:
        model = nn.Sequential(
            nn.Linear(IN_FEATURES, WIDTH),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.BatchNorm1d(WIDTH),
            nn.Linear(WIDTH, OUT_FEATURES),
        ).to(dtype)
    with torch.no_grad():  # running statistics that differ from the batch statistics
        for _ in range(3):
            model(torch.randn(16, IN_FEATURES, dtype=dtype) * 2 + 1)
    # mid-training: the parameters carry gradients of the last training step
    model(torch.randn(6, IN_FEATURES, dtype=dtype)).pow(2).mean().backward()
    if mode == "eval":
        model.eval()
    elif mode.endswith("frozen-batchnorm"):
        model.get_submodule(batchnorm_of(mode)).eval()
    return model


def batchnorm_of(mode):
    """The name of the batch-norm layer inside the model of a mode."""
    return NESTED_BATCHNORM if mode.startswith("nested") else BATCHNORM


def make_data(case):
    loss, sizes, dtype = DATA[case]
    data = []
    for n in sizes:
        x = torch.randn(n, IN_FEATURES, dtype=dtype)
        if loss == "cross_entropy":
            y = torch.randint(0, OUT_FEATURES, (n,))
        else:
            y = torch.randn(n, OUT_FEATURES, dtype=dtype)
        data.append((x, y))
    loss_fn = F.cross_entropy if loss == "cross_entropy" else F.mse_loss
    return data, loss_fn, dtype


@oracle
def expected_mean(model, data, loss_fn, weighted=True):
    """The mean loss per sample (or, weighted=False, the mean of the batch means), in eval mode."""
    twin = copy.deepcopy(model).eval()
    with torch.no_grad():
        means = [loss_fn(twin(x), y).double().item() for x, y in data]
    sizes = [len(x) for x, _ in data]
    if weighted:
        return sum(m * n for m, n in zip(means, sizes)) / sum(sizes)
    return sum(means) / len(means)


class Recorder:
    """Records, at every forward of the model, which modules were in train mode, the grad mode and whether
    autocast was on; and how many forwards ran on a copy of the model (`copy.deepcopy` copies the hook, a plain
    function, which then sees the copy)."""

    def __init__(self, model):
        self.in_train_mode = []
        self.grad_enabled = []
        self.autocast = []
        self.copies = 0

        def record(module, args):
            if module is not model:
                self.copies += 1
                return
            self.in_train_mode.append([name or "(the model)" for name, m in module.named_modules() if m.training])
            self.grad_enabled.append(torch.is_grad_enabled())
            if torch.is_autocast_enabled("cpu"):
                self.autocast.append(str(torch.get_autocast_dtype("cpu")).replace("torch.", ""))

        self.handle = model.register_forward_pre_hook(record)

    def modules_in_train_mode(self):
        return sorted({name for names in self.in_train_mode for name in names})


def run(evaluate, model, data, loss_fn):
    """Call evaluate with `data` as a one-shot generator; the result must be a Python float."""
    batches = ((x, y) for x, y in data)
    with explain_errors("evaluate", ERRORS, called_with=describe_args(model=model, batches=batches, loss_fn=loss_fn)):
        result = evaluate(model, batches, loss_fn)
    return expect_python_number(result, "evaluate", float, "the mean loss", int_hint=Mistake(
        "ex15.int_mean", "an int returned as the mean loss",
        "The mean loss is a Python float: `total / count` gives one (`//` and `round(...)` give ints)."
    ))


def evaluated(evaluate, model, data, loss_fn):
    """Run evaluate under a recorder and check its value: the one values message for every check."""
    want = expected_mean(model, data, loss_fn)
    recorder = Recorder(model)
    try:
        got = run(evaluate, model, data, loss_fn)
    finally:
        recorder.handle.remove()
    assert_value(got, want, model, data, loss_fn, recorder)
    return recorder


def assert_value(got, want, model, data, loss_fn, recorder):
    if math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-7):
        return
    in_train = recorder.modules_in_train_mode()
    if in_train:
        raise AssertionError(TRAIN_MODE.says(modules=", ".join(in_train)))
    sizes = [len(x) for x, _ in data]
    if recorder.autocast:
        raise AssertionError(Mistake(
            "ex15.autocast", "the model run under autocast (a lower precision)",
            f"evaluate returned {got:.6g}; the mean loss per sample is {want:.6g}. The model ran under autocast "
            f"(in {recorder.autocast[0]}), which computes in a lower precision and rounds the loss: a validation "
            "loss to compare with others is computed in the model's own dtype. Leave autocast out; "
            "`torch.no_grad()` and `model.eval()` are all the loop needs."
        ))
    if got == 0.0:
        raise AssertionError(Mistake(
            "ex15.counts_first", "a second pass over the batches, which sees nothing",
            f"evaluate returned 0.0; the mean loss per sample is {want:.6g}: no batch was added up. `batches` "
            "may be a one-shot generator (a DataLoader's iterator, a generator expression): a second pass over it "
            "sees nothing. Go through it once, adding up the weighted losses and counting the samples in the "
            "same loop."
        ))
    if math.isclose(got, expected_mean(model, data, loss_fn, weighted=False), rel_tol=1e-5, abs_tol=1e-7):
        raise AssertionError(Mistake(
            "ex15.unweighted_mean", "the unweighted mean of the batch means",
            f"evaluate returned {got:.6g}, the unweighted mean of the batch means; the mean loss per sample is "
            f"{want:.6g}. The batches have different sizes ({sizes}) and `loss_fn` returns a batch MEAN, so a "
            "small batch would count as much as a big one. Weight each batch mean by its size: add up "
            "`loss * len(x)` and divide by the total number of samples."
        ))
    if math.isclose(got, want * sum(sizes), rel_tol=1e-5, abs_tol=1e-7):
        raise AssertionError(Mistake(
            "ex15.sum_not_mean", "the sum of the losses instead of their mean",
            f"evaluate returned {got:.6g}, the SUM of the per-sample losses; the mean is {want:.6g}. Divide the "
            f"weighted sum by the total number of samples ({sum(sizes)})."
        ))
    raise AssertionError(Mistake(
        "ex15.wrong_value", "a value other than the mean loss per sample",
        f"evaluate returned {got:.6g} for batches of sizes {sizes}; the mean loss per sample, in eval mode, is "
        f"{want:.6g}. Add up `loss_fn(model(x), y).item() * len(x)` over the batches and divide by the number "
        "of samples. Possible causes: a batch left out or counted twice, the loss computed in another dtype or "
        "on changed inputs, or a count other than the number of samples."
    ))


@pytest.mark.parametrize("case", DATA)
def test_mean_loss_per_sample(evaluate, case):
    data, loss_fn, dtype = make_data(case)
    model = make_model(dtype)
    evaluated(evaluate, model, data, loss_fn)


@pytest.mark.parametrize("mode", MODES)
def test_runs_in_eval_mode(evaluate, mode):
    data, loss_fn, dtype = make_data("cross-entropy-batches-5-3-7")
    model = make_model(dtype, mode)
    recorder = evaluated(evaluate, model, data, loss_fn)
    assert recorder.in_train_mode or not recorder.copies, Mistake(
        "ex15.evaluates_a_copy", "a copy of the model evaluated instead of the model",
        "evaluate ran a copy of the caller's model (`copy.deepcopy(model)`?), never the model itself. The task is "
        "to evaluate the caller's model: a copy holds a second set of weights in memory for nothing, and what "
        "the caller attached to its model (here a forward hook) sees nothing of it. Switch the model itself to "
        "eval mode, and give every module its mode back afterwards.")
    assert recorder.in_train_mode, Mistake(
        "ex15.model_not_called", "the model never called",
        "evaluate never called the model: a forward pre-hook registered on it saw no call. Compute "
        "`loss_fn(model(x), y)` for each batch (calling `model.forward(x)` instead skips the model's hooks).")
    in_train = recorder.modules_in_train_mode()
    assert not in_train, TRAIN_MODE.says(modules=", ".join(in_train))


@pytest.mark.parametrize("case", ["cross-entropy-batches-5-3-7", "mse-f64-batches-2-9-4"])
def test_builds_no_graph(evaluate, case):
    data, loss_fn, dtype = make_data(case)
    model = make_model(dtype)
    with count_saved_tensors() as saved:
        evaluated(evaluate, model, data, loss_fn)
    assert saved.count == 0, Mistake(
        "ex15.no_no_grad", "the loop run without torch.no_grad()",
        f"autograd saved {saved.count} tensor(s) for a backward pass while evaluate ran: every batch built a "
        "graph that nobody will ever backpropagate through. Eval mode does not stop autograd, and `.item()` "
        "afterwards comes too late (the graph was already built). Run the loop inside `with torch.no_grad():`."
    )


@pytest.mark.parametrize("case", ["cross-entropy-batches-5-3-7", "mse-batches-8-8-1"])
def test_returns_a_python_float(evaluate, case):
    data, loss_fn, dtype = make_data(case)
    model = make_model(dtype)
    run(evaluate, model, data, loss_fn)


def explain_mode_change(mode, changed, model, when=""):
    """A message for the modes evaluate got wrong, for a caller who left its model in `mode`."""
    where = f"{when}: " if when else ""
    if mode == "eval" and model.training:
        return Mistake(
            "ex15.always_train", "model.train() called unconditionally at the end",
            f"{where}the caller's model was in eval mode and evaluate handed it back in train mode "
            f"({listed(changed)}). Calling `model.train()` unconditionally at the end breaks every caller that "
            "was not training (a final test run, an inference server). Remember each module's mode before "
            "switching, `modes = {m: m.training for m in model.modules()}`, and restore exactly that."
        )
    nested = [c for c in changed if c.split()[1].count(".") >= 1]
    if nested and len(nested) == len(changed) and mode.startswith("nested"):
        return Mistake(
            "ex15.nested_modes_reset", "the modes of modules nested below the children not given back",
            f"{where}evaluate gave the model and its direct children their modes back, but not the modules nested "
            f"below them: {listed(changed)}. `model.eval()` switched every module at any depth, and "
            "`child.train(flag)` (like `model.train(flag)`) sets every module below it too. Save each module's own flag over "
            "`model.modules()` (`modes = {m: m.training for m in model.modules()}`) and set each one back by itself: "
            "`m.training = was_training`."
        )
    if mode == "frozen-batchnorm" and model.training and model.get_submodule(BATCHNORM).training:
        return Mistake(
            "ex15.train_was_training", "model.train(was_training), which resets every submodule's own mode",
            f"{where}the caller had its batch-norm layer (module {BATCHNORM}) in eval mode inside a model in train "
            f"mode (as after freezing batch-norm), and evaluate switched it to train mode ({listed(changed)}). "
            "`model.train(was_training)` sets the flag of EVERY submodule, not just of the model. Save each "
            "module's flag, `modes = {m: m.training for m in model.modules()}`, and set each one back: "
            "`m.training = was_training` for every module."
        )
    if not model.training and not any(m.training for m in model.modules()):
        return Mistake(
            "ex15.mode_not_restored", "the model left in eval mode",
            f"{where}evaluate left the caller's model in eval mode ({listed(changed)}): the training loop that "
            "calls it goes on training with dropout switched off and batch-norm frozen. Give every module its "
            "mode back at the end, in a `finally:` block: `for m, was in modes.items(): m.training = was`."
        )
    return Mistake(
        "ex15.modes_changed", "the modes of the caller's model changed",
        f"{where}evaluate changed the modes of the caller's model: {listed(changed)}. Save every module's "
        "flag before `model.eval()` (`modes = {m: m.training for m in model.modules()}`) and set each one back "
        "afterwards, in a `finally:` block."
    )


@pytest.mark.parametrize("mode", MODES)
def test_modes_are_restored(evaluate, mode):
    data, loss_fn, dtype = make_data("mse-batches-8-8-1" if mode != "train" else "cross-entropy-batches-5-3-7")
    model = make_model(dtype, mode)
    changed = what_changed(model, lambda: evaluated(evaluate, model, data, loss_fn), "modes")
    assert not changed, explain_mode_change(mode, changed, model)


@pytest.mark.parametrize("mode", MODES)
def test_modes_are_restored_when_loss_fn_raises(evaluate, mode):
    data, loss_fn, dtype = make_data("cross-entropy-batches-5-3-7")
    model = make_model(dtype, mode)
    calls = []

    def failing_loss_fn(out, y):
        calls.append(len(y))
        if len(calls) == 2:
            raise LossFnFailure("loss_fn failed on the second batch (raised by the check on purpose)")
        return loss_fn(out, y)

    before = snapshot(model)
    grad_enabled = torch.is_grad_enabled()
    try:
        run(evaluate, model, data, failing_loss_fn)
    except LossFnFailure:
        pass
    else:
        raise AssertionError(Mistake(
            "ex15.swallows_exception", "an exception of loss_fn caught and swallowed",
            "loss_fn raised an exception on the second batch, and evaluate did not let it through: the caller "
            "must learn that the validation failed. Don't catch exceptions; restore the modes in a "
            "`try: ... finally: ...` block, which runs its `finally:` part and lets the exception go on."
        ))
    changed = changes(before, model, "modes")
    if changed and (model.training or any(m.training for m in model.modules())):
        raise AssertionError(explain_mode_change(mode, changed, model, when="when loss_fn raised"))
    assert not changed, Mistake(
        "ex15.restores_without_finally", "modes given back after the loop, not in a finally block",
        f"when loss_fn raised (on the second batch), evaluate left the caller's model in eval mode: "
        f"{listed(changed)}. The exception skipped the code that gives the modes back. Restore them in the "
        "`finally:` part of a `try: ... finally: ...` block around the loop: it runs also when the loop "
        "raises, and the exception still reaches the caller."
    )
    assert torch.is_grad_enabled() == grad_enabled, Mistake(
        "ex15.grad_mode_not_restored_on_error", "gradient tracking switched back by hand, not when loss_fn raises",
        "when loss_fn raised, evaluate left gradient tracking switched off for the caller: use "
        "`with torch.no_grad():`, which switches it back also when the block raises."
    )


@pytest.mark.parametrize("caller", ["grad-enabled", "inside-no_grad"])
def test_grad_mode_unchanged(evaluate, caller):
    data, loss_fn, dtype = make_data("mse-batches-8-8-1")
    model = make_model(dtype)
    with grad_mode_kept("evaluate", caller=caller):
        evaluated(evaluate, model, data, loss_fn)


@pytest.mark.parametrize("mode", ["train", "frozen-batchnorm"])
def test_parameters_and_buffers_untouched(evaluate, mode):
    data, loss_fn, dtype = make_data("cross-entropy-batches-5-3-7")
    model = make_model(dtype, mode)
    model.get_submodule("0").bias.requires_grad_(False)  # the caller froze one parameter
    before = snapshot(model)
    evaluated(evaluate, model, data, loss_fn)
    changed = changes(before, model, "flags grads")
    assert not changed, Mistake(
        "ex15.parameters_changed", "the caller's parameters changed (frozen, gradients cleared)",
        f"evaluate changed the caller's parameters: {listed(changed)}. A validation loop only reads the model: "
        "no `requires_grad_()` (freezing is not how to avoid the graph: `torch.no_grad()` is), no "
        "`zero_grad()`, no backward. The gradients of the last training step belong to the caller."
    )
    moved = before.moved(model, buffers=True)
    assert not moved, Mistake(
        "ex15.values_changed", "parameters or running statistics changed",
        f"evaluate changed the values of {', '.join(moved)}. Running the model in eval mode, under "
        "`torch.no_grad()`, changes neither the parameters nor the batch-norm running statistics."
    )


# --------------------------------------------------------------------------- generated structures


SKIPS_HOOKS = Mistake(
    "ex15.forward_skips_hooks", "model.forward(...) called, which skips the hooks registered on model",
    "The difference shows only where a forward hook is registered on model itself: calling `model.forward(...)` runs "
    "the layers but skips the hooks registered on model (here one that changes its output), so the mean loss is not "
    "what the caller's model computes. Call the module itself, `model(x)`: that runs its hooks."
)


def skipped_hooks(diff):
    """The smallest input that differs has a hook on model itself, and a value differs."""
    return diff.case.get("hook") == "model" and diff.raised is None and "value" in diff.field


GENERATED = MODEL_SPACE.only(layers=(2,), root_param=(False,), scalar_param=(False,), tied=(False,),
                             frozen=("none",), ties=(False,), outputs=("several",), grads=(False, True),
                             caller=("grad-enabled", "inside-no_grad"))


@oracle
def reference_evaluate(model, batches, loss_fn):
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in batches:
                total += loss_fn(model(x), y).item() * len(x)
                count += len(x)
        return total / count
    finally:
        for module, was_training in modes.items():
            module.training = was_training


def generated_call(case):
    model = model_for(case)
    out = 1 if case.outputs == "one" else 3
    sizes = [batch_for(case), 3]
    batches = [(torch.randn(n, 4, dtype=case.dtype), torch.randn(n, out, dtype=case.dtype)) for n in sizes]
    return {"model": model, "batches": batches, "loss_fn": F.mse_loss}


def test_agrees_with_the_reference_on_generated_structures(evaluate):
    compare(evaluate, reference_evaluate, GENERATED, generated_call, fn_name="evaluate", extra=1,
            known=[(skipped_hooks, SKIPS_HOOKS)])
