"""The models and inputs of ex20's checks, the reference map and the gradients a wrong score gives, and the
helpers that call `saliency` and say which score or step went wrong (checks/test_ex20_saliency.py holds
the checks)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from checks.instruments import Mistake, describe_args, expect_tensor, explain_errors, head

# id -> (architecture, input shape, dtype); weights and inputs are random per check
MODELS = {
    "mlp-tanh": ("mlp-tanh", (6, 5), torch.float32),
    "mlp-relu-f64": ("mlp-relu", (5, 4), torch.float64),
    "conv1d": ("conv1d", (4, 2, 7), torch.float32),
    "sum-pooling": ("sum-pooling", (5, 3, 6), torch.float32),
}

ENABLE_GRAD = Mistake(
    "ex20.no_enable_grad", "no torch.enable_grad(), so nothing is recorded under the caller's no_grad",
    "The caller is inside `torch.no_grad()`, so nothing you compute is recorded and the score has no graph "
    "to differentiate. Switch recording back on for your computation only: put the forward pass and the "
    "gradient inside `with torch.enable_grad():` (it switches recording back on inside the block and restores "
    "the caller's mode when the block ends)."
)

ERRORS = {
    r"does not require grad and does not have a grad_fn": ENABLE_GRAD,
    r"appears to not have been used in the graph|'NoneType' object has no attribute": Mistake(
        "ex20.gradient_of_unused_tensor", "a gradient asked for a tensor that took no part in the score",
        "The tensor whose gradient you asked for took no part in the score (its gradient is None). Call the model "
        "on the tracked stand-in you made (`inputs = x.detach().requires_grad_()`, then `model(inputs)`), and make "
        "sure recording is on (`with torch.enable_grad():`) while you compute the score."
    ),
    r"can't be called on non-leaf|you can only change requires_grad flags of leaf": Mistake(
        "ex20.requires_grad_on_non_leaf_x", "requires_grad switched on the caller's computed x instead of a stand-in",
        "`x` here was computed from other tensors (it is not a leaf), so its `requires_grad` flag cannot be changed, "
        "and it is the caller's anyway. Make your own tracked stand-in: `inputs = x.detach().requires_grad_()`."
    ),
    r"more than one element of the written-to tensor refers to a single memory location": Mistake(
        "ex20.gradient_changed_in_place", "the gradient autograd returned changed in place (abs_())",
        "The gradient autograd handed back was changed in place (`grad.abs_()`), and PyTorch refused: autograd may "
        "return a gradient whose entries share memory, or one it still uses elsewhere. Here the model first sums x "
        "over its last dimension, so all the entries a sum adds up get the same gradient, and autograd returns that "
        "value once, expanded over them (one memory location for many entries): writing to it is impossible. Never "
        "modify a gradient autograd gives you in place: `grad.abs()` returns a new tensor."
    ),
    r"Trying to backward through the graph a second time": Mistake(
        "ex20.second_backward", "a second backward through a freed graph",
        "A second backward went through a graph that the first one already freed. Compute the score once and ask "
        "for its gradient once, with `torch.autograd.grad(score, inputs)`."
    ),
}

# id -> how the caller's x was made
INPUTS = ["plain", "tracking-leaf", "leaf-with-grad", "computed"]


class SumOverLength(nn.Module):
    """Global sum pooling, (batch, channels, length) -> (batch, channels): the gradient of each sum is one
    value for every entry it adds up, which autograd returns expanded (one memory location for all of them)."""

    def forward(self, x):
        return x.sum(dim=-1)


def make_model(kind):
    arch, shape, dtype = MODELS[kind]
    if arch == "mlp-tanh":
        model = nn.Sequential(nn.Linear(shape[1], 8), nn.Tanh(), nn.Linear(8, 3))
    elif arch == "mlp-relu":
        model = nn.Sequential(nn.Linear(shape[1], 6), nn.ReLU(), nn.Linear(6, 4))
    elif arch == "conv1d":
        channels, length = shape[1], shape[2]
        model = nn.Sequential(nn.Conv1d(channels, 3, 3), nn.Tanh(), nn.Flatten(), nn.Linear(3 * (length - 2), 4))
    else:
        model = nn.Sequential(SumOverLength(), nn.Linear(shape[1], 6), nn.Tanh(), nn.Linear(6, 4))
    model = model.to(dtype)
    return model, torch.randn(shape, dtype=dtype)


def _gradient_oracle(model, x, pick):
    """d pick(model(x)) / d x from the full Jacobian, on a copy of the model (never the learner's objects)."""
    twin = copy.deepcopy(model)
    with torch.enable_grad():
        base = x.detach().clone()
        out = twin(base).detach()
        jac = torch.autograd.functional.jacobian(lambda inp: twin(inp), base)  # (B, O, *x.shape)
    return pick(out, jac)


def _rows_max(out, jac):
    idx = out.argmax(dim=1)
    return sum(jac[b, idx[b]] for b in range(out.shape[0]))


def _all_outputs(out, jac):
    return jac.sum(dim=(0, 1))


def _batch_max(out, jac):
    flat = out.argmax().item()
    b, j = divmod(flat, out.shape[1])
    return jac[b, j]


def reference(model, x):
    return _gradient_oracle(model, x, _rows_max).abs()


def call(saliency, model, x):
    with explain_errors("saliency", ERRORS, called_with=describe_args(model=model, x=x)):
        out = saliency(model, x)
    return expect_tensor(out, "saliency")


def _close(a, b):
    return a.shape == b.shape and torch.allclose(a.detach().to(b.dtype), b, rtol=1e-4, atol=1e-6)


def assert_saliency(out, model, x, want, how="called normally"):
    """The values are |d score / d x|, or the message says which score or step went wrong."""
    assert out.shape == x.shape, Mistake(
        "ex20.wrong_shape", "a map of another shape than x",
        f"saliency returned a tensor of shape {tuple(out.shape)} ({how}); the saliency map has the shape of the "
        f"input x, {tuple(x.shape)}: one value per input entry, the gradient of the score with respect to x."
    )
    if _close(out, want):
        return
    signed = _gradient_oracle(model, x, _rows_max)
    if _close(out, signed):
        raise AssertionError(Mistake(
            "ex20.no_abs", "the signed gradient instead of its absolute value",
            f"saliency returned the signed gradient ({how}): it has negative entries. The saliency map is the "
            "absolute value of the gradient, |d score / d x|: take `.abs()` of the gradient."
        ))
    if _close(out, _gradient_oracle(model, x, _all_outputs).abs()):
        raise AssertionError(Mistake(
            "ex20.sum_of_all_outputs", "the score taken as the sum of all outputs",
            f"saliency returned the gradient of the sum of ALL outputs ({how}). The score is the sum over the rows "
            "of each row's largest output (the score of the predicted class): `model(inputs).max(dim=1).values.sum()`."
        ))
    if _close(out, want / x.shape[0]):
        raise AssertionError(Mistake(
            "ex20.mean_over_batch", "the mean instead of the sum over the rows",
            f"saliency returned the expected map divided by the batch size ({how}): the score is the sum over the "
            "rows of each row's largest output, not their mean. With a mean every row's gradient shrinks by 1/batch."
        ))
    if _close(out, _gradient_oracle(model, x, _batch_max).abs()):
        raise AssertionError(Mistake(
            "ex20.max_of_whole_batch", "the single largest output of the whole batch as the score",
            f"only one row of the saliency map is nonzero ({how}): the score used the single largest output of the "
            "whole batch. Take each row's largest output, then sum them: `.max(dim=1).values.sum()`."
        ))
    close = out.shape == want.shape and torch.allclose(out.detach().to(want.dtype), want, rtol=2e-2, atol=1e-3)
    raise AssertionError(Mistake(
        "ex20.wrong_values", "values other than |d score / d x|",
        f"saliency returned wrong values ({how}): expected |d score / d x| = {head(want, 4)}, found {head(out, 4)}, "
        "where score = the sum over the rows of each row's largest output of model(x). Compute the score on a "
        "tracked stand-in of x (`x.detach().requires_grad_()`), take its gradient with respect to that stand-in, "
        "and return the gradient's absolute value."
        + (" The values are close to the expected ones, only not equal: a possible cause is a lower precision "
           "(autocast) than the model's own dtype." if close else "")
    ))
