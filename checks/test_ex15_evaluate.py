"""Checks for ex15: evaluate(model, batches, loss_fn) is a validation loop in eval mode, without a
graph, weighting batch means by batch size, and handing the model back in the modes it came in."""

import pytest
import torch
from torch.nn import functional as F

from checks.instruments import (Mistake, changes, count_saved_tensors, grad_mode_kept, listed, oracle, snapshot,
                                what_changed)
from checks.structures import MODEL_SPACE, batch_for, compare, model_for
from checks.support_ex15_evaluate import (BATCHNORM, DATA, MODES, TRAIN_MODE, LossFnFailure, evaluated, make_data,
                                          make_model, run)


@pytest.fixture
def evaluate(learner):
    return learner


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
