"""Checks for ex21: train_truncated_bptt(...) trains chunk by chunk, carrying the hidden state
detached across chunk boundaries; compared with a reference run on copies of the same modules."""

import pytest
import torch
from torch import nn

from checks.instruments import Mistake, grad_fn_name, grad_mode_kept, oracle, snapshot
from checks.structures import Space, compare
from checks.support_ex21_truncated_bptt import (BATCH, CASES, FEATURES, HIDDEN, MULTI_CHUNK, OUT, MaxAbsError,
                                               _close_lists, _oracle, _trained, assert_trained, call, diagnose,
                                               expect_losses, make_problem, reported)


@pytest.fixture
def train_truncated_bptt(learner):
    return learner


# --------------------------------------------------------------------------- the checks


@pytest.mark.parametrize("case", CASES)
def test_returns_one_float_per_chunk(train_truncated_bptt, case):
    problem = make_problem(case)
    expect_losses(call(train_truncated_bptt, problem), problem)


@pytest.mark.parametrize("case", CASES)
def test_chunk_losses_match_reference(train_truncated_bptt, case):
    problem = make_problem(case)
    reference = _oracle(problem)
    losses = expect_losses(call(train_truncated_bptt, problem), problem)
    if not _close_lists(losses, reference.losses):
        raise AssertionError(reported(diagnose(problem, losses, reference)))


@pytest.mark.parametrize("case", CASES)
def test_parameters_match_reference(train_truncated_bptt, case):
    problem = make_problem(case)
    reference = _oracle(problem)
    losses = expect_losses(call(train_truncated_bptt, problem), problem)
    params = [p.detach() for p in problem.params]
    if not _close_lists(params, reference.params):
        raise AssertionError(reported(diagnose(problem, losses, reference)))


@pytest.mark.parametrize("case", MULTI_CHUNK + ["gru-T4-k6-one-chunk"])
def test_steps_once_per_chunk(train_truncated_bptt, case):
    problem = make_problem(case)
    steps = []
    problem.optimizer.register_step_post_hook(lambda optimizer, args, kwargs: steps.append(1))
    expect_losses(call(train_truncated_bptt, problem), problem)
    assert len(steps) == problem.chunks, Mistake(
        "ex21.steps_per_chunk", "the given optimizer not stepped once per chunk (an own optimizer, or extra steps)",
        f"the optimizer you were given stepped {len(steps)} time(s) for {problem.chunks} chunk(s). Call "
        "`optimizer.step()` once per chunk, after that chunk's `loss.backward()`; use the optimizer passed in "
        "(it holds the parameters, the learning rate and its own state such as momentum), don't make a new one."
    )


@pytest.mark.parametrize("case", MULTI_CHUNK)
def test_gradients_are_cleared(train_truncated_bptt, case):
    problem = make_problem(case)
    reference = _oracle(problem)
    losses = expect_losses(call(train_truncated_bptt, problem), problem)
    assert_trained(problem, losses, reference)
    left = [i for i, p in enumerate(problem.params) if p.grad is not None and p.grad.any()]
    assert not left, Mistake(
        "ex21.gradients_left", "the last chunk's gradients left behind",
        f"after training, {len(left)} parameter(s) still hold the last chunk's gradients. The contract's order per "
        "chunk is `loss.backward()`, `optimizer.step()`, `optimizer.zero_grad()`: zero after the step, so that no "
        "gradient is left behind for the caller's next backward to add onto."
    )


@pytest.mark.parametrize("made", ["plain", "computed"])
@pytest.mark.parametrize("case", ["rnn-T7-k3-last-shorter", "gru-T7-k2-momentum"])
def test_h0_is_untouched(train_truncated_bptt, case, made):
    encoder = nn.Linear(3, HIDDEN)
    h0 = torch.randn(BATCH, HIDDEN) if made == "plain" else torch.tanh(encoder(torch.randn(BATCH, 3)))
    problem = make_problem(case, h0=h0)
    before = snapshot(h0)
    reference = _oracle(problem)
    losses = expect_losses(call(train_truncated_bptt, problem), problem)
    assert_trained(problem, losses, reference)
    assert h0.requires_grad == before.requires_grad and h0.grad_fn is before.grad_fn, Mistake(
        "ex21.detach_in_place", "the caller's h0 detached in place",
        f"the caller's h0 lost its history (requires_grad {before.requires_grad} -> {h0.requires_grad}, grad_fn "
        f"{grad_fn_name(before.grad_fn)} -> {grad_fn_name(h0.grad_fn)}): it was detached IN PLACE (`h.detach_()` while `h` was still the caller's "
        "h0). `detach_()` changes the tensor everybody holds; `h = h.detach()` makes a new one and leaves h0 alone."
    )
    assert h0._version == before.version and torch.equal(h0.detach(), before.values), Mistake(
        "ex21.h0_modified", "the caller's h0 modified in place",
        "the caller's h0 was modified in place (its values or version counter changed). Start from it, but write "
        "the new state into a new tensor: `h = cell(xs[t], h)` rebinds `h`, it never overwrites h0."
    )


@pytest.mark.parametrize("modes", ["both-train", "both-eval", "cell-eval"])
def test_leaves_modes_as_found(train_truncated_bptt, modes):
    problem = make_problem("rnn-T6-k3")
    if modes in ("both-eval", "cell-eval"):
        problem.cell.eval()
    if modes == "both-eval":
        problem.readout.eval()
    before = (problem.cell.training, problem.readout.training)
    reference = _oracle(problem)
    with grad_mode_kept("train_truncated_bptt"):
        losses = expect_losses(call(train_truncated_bptt, problem), problem)
    assert_trained(problem, losses, reference)
    after = (problem.cell.training, problem.readout.training)
    mode = lambda flag: "train" if flag else "eval"  # noqa: E731
    assert after == before, Mistake(
        "ex21.modes_changed", "the modules' modes changed",
        f"train_truncated_bptt changed the modules' modes (cell {mode(before[0])} -> {mode(after[0])}, readout "
        f"{mode(before[1])} -> {mode(after[1])}). The caller chose them: leave `.train()` / `.eval()` alone "
        "(or, if you must switch, restore the previous mode before returning)."
    )


# --------------------------------------------------------------------------- generated structures


GENERATED = Space(cell=("rnn", "gru"), steps=(7, 4), k=(3, 1, 8), loss=("mse", "max-abs-error"),
                  h0=("plain", "computed"), momentum=(0.0, 0.5), mode=("train", "eval"))


@oracle
def reference_train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    return _trained(cell, readout, xs, ys, h0, k, loss_fn, optimizer)


def generated_call(case):
    cell = (nn.RNNCell if case.cell == "rnn" else nn.GRUCell)(FEATURES, HIDDEN)
    readout = nn.Linear(HIDDEN, OUT)
    cell.train(case.mode == "train")
    h0 = torch.randn(BATCH, HIDDEN)
    if case.h0 == "computed":
        h0 = torch.tanh(h0.requires_grad_() * 2)
    optimizer = torch.optim.SGD([*cell.parameters(), *readout.parameters()], lr=0.1, momentum=case.momentum)
    return {"cell": cell, "readout": readout, "xs": torch.randn(case.steps, BATCH, FEATURES),
            "ys": torch.randn(case.steps, BATCH, OUT), "h0": h0, "k": case.k,
            "loss_fn": nn.MSELoss() if case.loss == "mse" else MaxAbsError(), "optimizer": optimizer}


def test_agrees_with_the_reference_on_generated_structures(train_truncated_bptt):
    def with_zero_gradients_as_none(cell, readout, *rest):
        """The learner's run; a gradient of zeros left behind reads as none (the contract allows both)."""
        result = train_truncated_bptt(cell, readout, *rest)
        for p in [*cell.parameters(), *readout.parameters()]:
            if p.grad is not None and not p.grad.any():
                p.grad = None
        return result

    compare(with_zero_gradients_as_none, reference_train_truncated_bptt, GENERATED, generated_call,
            fn_name="train_truncated_bptt", extra=1)
