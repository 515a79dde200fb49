"""The model, data and modes of ex15's checks, their reference mean, and the helpers that call `evaluate`,
record the modes and grad mode the model ran in, and say what is wrong with the value it returned
(checks/test_ex15_evaluate.py holds the checks)."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn import functional as F

from checks.instruments import Mistake, RaisedByTheCheck, describe_args, expect_python_number, explain_errors, oracle

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
