"""The cases of ex21's checks, their problem (cell, readout, sequence, optimizer), the reference run and the
known mistakes it can replay, and the helpers that call `train_truncated_bptt`, watch what it did to the
parameters and say why its run differs (checks/test_ex21_truncated_bptt.py holds the checks)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from checks.instruments import Mistake, as_mistake, describe_args, expect_python_number, explain_errors, head, oracle

BATCH, FEATURES, HIDDEN, OUT = 3, 2, 4, 2


class MaxAbsError(nn.Module):
    """A loss that is not a mean over elements: the largest absolute error of the batch."""

    def forward(self, out, target):
        return (out - target).abs().max()


# id -> (cell class, T, k, SGD learning rate, SGD momentum, loss function)
CASES = {
    "rnn-T6-k3": (nn.RNNCell, 6, 3, 0.1, 0.0, nn.MSELoss),
    "rnn-T7-k3-last-shorter": (nn.RNNCell, 7, 3, 0.1, 0.0, nn.MSELoss),
    "gru-T7-k2-momentum": (nn.GRUCell, 7, 2, 0.2, 0.5, nn.MSELoss),
    "rnn-T4-k1": (nn.RNNCell, 4, 1, 0.1, 0.0, nn.HuberLoss),
    "gru-T4-k6-one-chunk": (nn.GRUCell, 4, 6, 0.1, 0.0, nn.MSELoss),
    "rnn-T6-k3-max-abs-error": (nn.RNNCell, 6, 3, 0.1, 0.0, MaxAbsError),
}
MULTI_CHUNK = ["rnn-T6-k3", "rnn-T7-k3-last-shorter", "gru-T7-k2-momentum"]

NO_DETACH = Mistake(
    "ex21.no_detach", "the carried hidden state not detached at the chunk boundary",
    "The hidden state carried over from the previous chunk still points into that chunk's graph, which its "
    "backward already freed; this chunk's backward tried to go through it again. Keep the state's values but cut "
    "its history at every chunk boundary: `h = h.detach()` before the chunk's first step."
)

ERRORS = {
    r"Trying to backward through the graph a second time": NO_DETACH,
    r"modified by an inplace operation": Mistake(
        "ex21.retain_graph", "retain_graph=True instead of detaching the carried state",
        "A backward went back into an earlier chunk's graph (`retain_graph=True` kept it alive, or the hidden state "
        "was never detached), but `optimizer.step()` has changed the weights in place since that chunk saved them. "
        "Keeping the graph is not the fix: gradients must stop at the chunk boundary. Drop `retain_graph=True` and "
        "detach the carried state instead: `h = h.detach()` at the start of every chunk."
    ),
    r"does not require grad and does not have a grad_fn": Mistake(
        "ex21.loss_without_graph", "a chunk loss computed without recording",
        "A chunk's loss has no graph, so backward has nothing to go through: it was computed with recording off "
        "(under `torch.no_grad()`) or from detached outputs. Only the hidden state carried INTO a chunk is "
        "detached; the chunk's own steps, `cell(xs[t], h)` and `readout(h)`, must be recorded."
    ),
    r"'float' object has no attribute 'backward'|'int' object has no attribute 'backward'": Mistake(
        "ex21.backward_of_number", "the chunk loss turned into a Python number before backward",
        "The chunk loss is a Python number here, so it cannot be backpropagated: keep the step losses as tensors "
        "(`loss_fn(...)` returns one), average them, call `.backward()` on that tensor, and only then take "
        "`.item()` of it for the list you return."
    ),
    r"Expected input to be 1D or 2D": Mistake(
        "ex21.cell_given_a_slice", "the cell given several time steps at once",
        "The cell takes ONE time step at a time: `xs[t]`, of shape (batch, features). A slice such as "
        "`xs[start:end]` holds several steps (steps, batch, features): loop over the chunk's steps, "
        "`for t in range(start, end): h = cell(xs[t], h)`."
    ),
}


@dataclass
class Problem:
    cell: nn.Module
    readout: nn.Module
    xs: torch.Tensor
    ys: torch.Tensor
    h0: torch.Tensor
    k: int
    loss_fn: nn.Module
    optimizer: torch.optim.Optimizer
    make_optimizer: object
    initial: list  # the parameters' values before training, in order
    watch: object = None  # what the learner's run did (a `Watch`), once it ran

    @property
    def params(self):
        return [*self.cell.parameters(), *self.readout.parameters()]

    @property
    def chunks(self):
        return math.ceil(self.xs.shape[0] / self.k)


def make_problem(case, h0=None):
    cell_cls, steps, k, lr, momentum, loss_cls = CASES[case]
    cell, readout = cell_cls(FEATURES, HIDDEN), nn.Linear(HIDDEN, OUT)
    make_optimizer = lambda params: torch.optim.SGD(params, lr=lr, momentum=momentum)  # noqa: E731
    xs, ys = torch.randn(steps, BATCH, FEATURES), torch.randn(steps, BATCH, OUT)
    h0 = torch.randn(BATCH, HIDDEN) if h0 is None else h0
    problem = Problem(cell, readout, xs, ys, h0, k, loss_cls(), None, make_optimizer, [])
    problem.optimizer = make_optimizer(problem.params)
    problem.initial = [p.detach().clone() for p in problem.params]
    return problem


# --------------------------------------------------------------------------- the oracle


@dataclass
class Run:
    losses: list
    params: list


def _oracle(problem, *, restart=False, zero=True, every_step=False, reduce="mean"):
    """The reference algorithm (and, with a flag, a known mistake of it) on copies of the modules."""
    cell, readout = copy.deepcopy(problem.cell), copy.deepcopy(problem.readout)
    for p, initial in zip([*cell.parameters(), *readout.parameters()], problem.initial):
        with torch.no_grad():
            p.copy_(initial)  # the copies start from the values before the learner's run
        p.grad = None
    params = [*cell.parameters(), *readout.parameters()]
    optimizer = problem.make_optimizer(params)
    losses = _trained(cell, readout, problem.xs.detach(), problem.ys.detach(), problem.h0, problem.k, problem.loss_fn,
                      optimizer, restart=restart, zero=zero, every_step=every_step, reduce=reduce)
    return Run(losses, [p.detach().clone() for p in params])


@oracle
def _trained(cell, readout, xs, ys, h0, k, loss_fn, optimizer, *, restart=False, zero=True, every_step=False,
             reduce="mean"):
    """Train `cell` and `readout` in place as the contract says (or, with a flag, as a known mistake does);
    the chunk losses."""
    steps = xs.shape[0]
    h = h0.detach().clone()
    losses = []
    with torch.enable_grad():
        for start in range(0, steps, k):
            h = h0.detach().clone() if restart else h.detach()
            step_losses, outputs = [], []
            end = min(start + k, steps)
            for t in range(start, end):
                h = cell(xs[t], h)
                outputs.append(readout(h))
                step_losses.append(loss_fn(outputs[-1], ys[t]))
                if every_step:
                    h = h.detach()
            stacked = torch.stack(step_losses)
            if reduce == "one-call":
                loss = loss_fn(torch.stack(outputs), ys[start:end])
            else:
                loss = {"mean": stacked.mean(), "sum": stacked.sum(), "last": stacked[-1],
                        "by-k": stacked.sum() / k}[reduce]
            loss.backward()
            optimizer.step()
            if zero:
                optimizer.zero_grad()
            losses.append(loss.item())
    return losses


MISTAKES = {
    "restart": (
        dict(restart=True),
        Mistake(
            "ex21.restart_from_h0", "the hidden state restarted from h0 at every chunk",
            "the hidden state restarted from h0 at every chunk: each chunk must start from the state the previous "
            "chunk ended with (only its history is cut, not its values). Carry `h` over and detach it: `h = h.detach()`, "
            "not `h = h0`."
        ),
    ),
    "no-zero-grad": (
        dict(zero=False),
        Mistake(
            "ex21.no_zero_grad", "gradients never cleared, so they accumulate across chunks",
            "the gradients accumulated across chunks: backward ADDS into `.grad`, so without `optimizer.zero_grad()` "
            "every step also reuses the gradients of all earlier chunks. Call `optimizer.zero_grad()` after each "
            "`optimizer.step()`."
        ),
    ),
    "every-step": (
        dict(every_step=True),
        Mistake(
            "ex21.detach_every_step", "the hidden state detached at every step instead of every chunk",
            "the gradient was cut at every step instead of at every chunk boundary: backward went back only one step, "
            "not through the chunk's k steps. Detach the hidden state once per chunk, before its first step, and let "
            "the steps inside the chunk stay connected."
        ),
    ),
    "sum": (
        dict(reduce="sum"),
        Mistake(
            "ex21.sum_not_mean", "a chunk's loss as the sum of its step losses",
            "each chunk's loss is the sum of its step losses instead of their mean: divide by the number of steps in "
            "the chunk (the last chunk may be shorter than k, so count its steps)."
        ),
    ),
    "by-k": (
        dict(reduce="by-k"),
        Mistake(
            "ex21.divides_by_k", "every chunk's loss divided by k, also the shorter last chunk",
            "every chunk's summed loss was divided by k, but the last chunk can be shorter than k: divide by the "
            "number of steps the chunk actually has (`len(range(start, end))`), so its loss is the mean of its own steps."
        ),
    ),
    "one-call": (
        dict(reduce="one-call"),
        Mistake(
            "ex21.one_call_on_stacked_chunk", "one loss_fn call on the stacked chunk instead of the mean of step losses",
            "each chunk's loss is one call of loss_fn on the chunk's stacked outputs and targets, not the mean over "
            "the chunk's steps of `loss_fn(readout(h), ys[t])`. The two agree only for a loss that is a mean over "
            "elements (such as MSE); this loss_fn is not (it takes the largest error). Call loss_fn once per step "
            "and average those step losses: `torch.stack(step_losses).mean()`."
        ),
    ),
    "last": (
        dict(reduce="last"),
        Mistake(
            "ex21.last_step_only", "a chunk's loss as its last step's loss only",
            "each chunk's loss is only its last step's loss: the loss of a chunk is the mean over ALL its steps of "
            "`loss_fn(readout(h), ys[t])`."
        ),
    ),
}


def _close_lists(a, b):
    return len(a) == len(b) and all(
        torch.allclose(torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64), rtol=1e-4, atol=1e-6)
        for x, y in zip(a, b)
    )


def diagnose(problem, losses, reference):
    """Why the learner's run differs from the reference: one message per known mistake."""
    params = [p.detach().clone() for p in problem.params]
    watch = problem.watch
    if _close_lists(params, problem.initial) and watch is not None and watch.steps and not watch.reached:
        return Mistake(
            "ex21.loss_not_connected", "chunk losses with no link to the parameters (rebuilt from their values)",
            "the parameters did not change at all: the optimizer stepped, but no backward ever reached the "
            "parameters, so they never had a gradient. The chunk losses you called `backward()` on have no link "
            "to the cell and the readout: a loss rebuilt from its value (`torch.tensor(loss.item(), "
            "requires_grad=True)`), or computed from detached outputs, is a new tensor without that history. Call "
            "`backward()` on the loss computed from `readout(h)` itself, and take `.item()` only for the list."
        )
    if _close_lists(params, problem.initial) and watch is not None and watch.reached and not any(watch.with_grad):
        return Mistake(
            "ex21.parameters_unchanged", "the parameters never stepped (zero_grad before step, or no step)",
            "the parameters did not change at all: the backward reached them, but at every `optimizer.step()` their "
            "gradients were already cleared. Per chunk call `loss.backward()`, then `optimizer.step()`, then "
            "`optimizer.zero_grad()`, in that order (zeroing before the step throws the gradient away)."
        )
    if _close_lists(params, problem.initial):
        return Mistake(
            "ex21.parameters_never_moved", "the parameters never moved (no step with a gradient)",
            "the parameters did not change at all: the optimizer you were given never stepped with a gradient. "
            "Possible causes: no `optimizer.step()` (or a step of another optimizer), `zero_grad()` between the "
            "backward and the step, or losses without a link to the parameters. Per chunk call `loss.backward()`, "
            "then `optimizer.step()`, then `optimizer.zero_grad()`."
        )
    for flags, message in MISTAKES.values():
        run = _oracle(problem, **flags)
        if _close_lists(losses, run.losses) and _close_lists(params, run.params):
            return message
    return Mistake(
        "ex21.differs_from_reference", "chunk losses or trained parameters that differ from the reference run",
        f"the chunk losses or the trained parameters differ from the reference run (reference losses "
        f"{head(reference.losses)}, yours {head(losses)}). Per chunk of k steps: start from the previous chunk's "
        "final state, detached; loss = mean over the chunk's steps of `loss_fn(readout(h), ys[t])`; then "
        "`loss.backward()`, `optimizer.step()`, `optimizer.zero_grad()` with the optimizer you were given."
    )


# --------------------------------------------------------------------------- calling


class Watch:
    """What the learner's run did to the parameters: how many gradients a backward computed for them
    (`reached`), how many steps the given optimizer took, and whether a parameter had a nonzero gradient at
    each step (`with_grad`)."""

    def __init__(self, problem):
        self.reached, self.steps, self.with_grad = 0, 0, []
        self.handles = [p.register_hook(self._reach) for p in problem.params]
        self.handles.append(problem.optimizer.register_step_pre_hook(self._step))

    def _reach(self, grad):
        self.reached += 1

    def _step(self, optimizer, args, kwargs):
        self.steps += 1
        self.with_grad.append(any(p.grad is not None and bool(p.grad.any())
                                  for group in optimizer.param_groups for p in group["params"]))

    def remove(self):
        for handle in self.handles:
            handle.remove()


def call(train_truncated_bptt, problem):
    p = problem
    arguments = describe_args(cell=p.cell, readout=p.readout, xs=p.xs, ys=p.ys, h0=p.h0, k=p.k, loss_fn=p.loss_fn,
                              optimizer=p.optimizer)
    p.watch = Watch(p)
    try:
        with explain_errors("train_truncated_bptt", ERRORS, called_with=arguments):
            return train_truncated_bptt(p.cell, p.readout, p.xs, p.ys, p.h0, p.k, p.loss_fn, p.optimizer)
    finally:
        p.watch.remove()


def expect_losses(result, problem):
    assert isinstance(result, list), Mistake(
        "ex21.not_a_list", "something else than a list of chunk losses returned",
        f"train_truncated_bptt returned {type(result).__name__} ({result!r:.80}); a list of the chunk losses is "
        "expected, one Python float per chunk (`losses.append(loss.item())`)."
    )
    result = [list.__getitem__(result, i) for i in range(list.__len__(result))]  # the items, whatever the class
    for i, value in enumerate(result):
        expect_python_number(value, "train_truncated_bptt", float, what=f"chunk loss {i}")
    steps = problem.xs.shape[0]
    assert len(result) == problem.chunks, Mistake(
        "ex21.wrong_chunk_count", "another number of chunk losses than ceil(T / k) (the last, shorter chunk dropped)",
        f"train_truncated_bptt returned {len(result)} chunk losses for T={steps} steps in chunks of k={problem.k}; "
        f"expected ceil(T / k) = {problem.chunks}. Every step belongs to exactly one chunk, the last chunk may be "
        "shorter than k, and with k >= T the whole sequence is one chunk: "
        "`for start in range(0, T, k)` with the chunk ending at `min(start + k, T)`."
    )
    return result


def assert_trained(problem, losses, reference):
    """Losses and parameters are those of the reference, or the message names the mistake."""
    params = [p.detach() for p in problem.params]
    if _close_lists(losses, reference.losses) and _close_lists(params, reference.params):
        return
    raise AssertionError(reported(diagnose(problem, losses, reference)))


def reported(diagnosis):
    """A diagnosis as the check's message, the mistake it is kept."""
    return as_mistake(diagnosis, f"train_truncated_bptt: {diagnosis}")
