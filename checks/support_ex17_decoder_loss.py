"""The cases of ex17's checks (losses, callers' x, encoders), their encoder and decoder, and the helpers that
call `decoder_loss` and say what is wrong with the loss it returned (checks/test_ex17_decoder_loss.py
holds the checks)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from checks.instruments import Mistake, describe_args, expect_tensor, explain_errors

IN_FEATURES, HIDDEN, CODE = 5, 8, 3


def _squared_error_per_row(out, target):
    """A hand-written loss: any callable (output, target) -> scalar is a valid loss_fn."""
    return ((out - target) ** 2).sum(dim=1).mean()


# id -> (loss_fn, output size, kind of target, batch size, dtype); weights, x and target are random per check
CASES = {
    "mse-regression": (nn.MSELoss(), 4, "values", 6, torch.float32),
    "cross-entropy-5-classes": (nn.CrossEntropyLoss(), 5, "classes", 7, torch.float32),
    "custom-loss-f64": (_squared_error_per_row, 2, "values", 5, torch.float64),
}

ERRORS = {
    r"Inference tensors cannot be saved for backward": Mistake(
        "ex17.inference_mode_encoder", "the encoder run under inference_mode, which a learning decoder cannot take",
        "The encoder's output was made under `torch.inference_mode()`: it is an \"inference tensor\", and autograd "
        "refuses to save those. The decoder's first layer must save its input to compute its weight's gradient, so "
        "an inference tensor can't go into a decoder that learns. Here use `with torch.no_grad():` around the "
        "encoder: its output is an ordinary tensor, just without history."
    ),
    r"element 0 of tensors does not require grad and does not have a grad_fn": Mistake(
        "ex17.loss_without_history", "a loss without history (detached, or the decoder under no_grad)",
        "The loss decoder_loss returned has no history (requires_grad=False, grad_fn=None), so backward has nothing "
        "to walk back through and the decoder learns nothing. That happens when the loss or the decoder's output is "
        "detached, or when the decoder runs under `torch.no_grad()` too. The stop belongs between the encoder and "
        "the decoder only: `with torch.no_grad(): features = encoder(x)`, then the decoder and the loss with "
        "tracking on, returned as they are."
    ),
    r"Can't detach views in-place": Mistake(
        "ex17.detach_in_place_view", "the encoder's output detached in place (detach_()), which may be the caller's x",
        "`detach_()` refused to detach the encoder's output in place: here the encoder has no parameters and its "
        "output is a view of `x` (a reshape), so detaching it in place would change the caller's `x`. Use "
        "`encoder(x).detach()`, which makes a new tensor, or the encoder inside `with torch.no_grad():`."
    ),
    r"mat1 and mat2 shapes cannot be multiplied": Mistake(
        "ex17.skips_encoder", "the decoder run on x instead of the encoder's output",
        "A layer got an input of the wrong size. The decoder reads the encoder's output, not `x`: compute "
        "`decoder(encoder(x))` (with the stop on the encoder's output), then `loss_fn(output, target)`."
    ),
}


# the caller's x, as an encoder without parameters may give it back: the same tensor, or a view of it
CALLERS_X = {
    "mlp-encoder": "an MLP encoder",
    "identity-encoder": "an encoder without parameters that returns x itself (nn.Identity), x requiring grad",
    "reshaping-encoder": "an encoder without parameters whose output is a view of x (nn.Flatten), x computed "
    "from a tensor that requires grad",
}


# how the caller's encoder is before the call
ENCODERS = ["encoder-trainable", "encoder-partly-frozen", "encoder-has-old-grads"]


class Setup:
    """A pretrained encoder, a decoder, a batch and a loss of one case."""

    def __init__(self, case="mse-regression"):
        loss_fn, out_features, target_kind, batch, dtype = CASES[case]
        self.encoder = nn.Sequential(nn.Linear(IN_FEATURES, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, CODE)).to(dtype)
        self.decoder = nn.Sequential(nn.Linear(CODE, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, out_features)).to(dtype)
        self.x = torch.randn(batch, IN_FEATURES, dtype=dtype)
        if target_kind == "classes":
            self.target = torch.randint(0, out_features, (batch,))
        else:
            self.target = torch.randn(batch, out_features, dtype=dtype)
        self.loss_fn = loss_fn
        self.want_loss, self.want_grads = self.reference()

    def reference(self):
        """The loss and the decoder's gradients, on copies of the modules, with the stop placed by hand."""
        encoder, decoder = copy.deepcopy(self.encoder), copy.deepcopy(self.decoder)
        for p in decoder.parameters():
            p.grad = None
        with torch.enable_grad():
            features = encoder(self.x).detach()
            loss = self.loss_fn(decoder(features), self.target)
            loss.backward()
        return loss.detach(), {n: p.grad for n, p in decoder.named_parameters() if p.requires_grad}

    def refresh(self):
        """Recompute the reference after the caller changed flags or modes."""
        self.want_loss, self.want_grads = self.reference()


def arguments(s) -> str:
    return describe_args(encoder=s.encoder, decoder=s.decoder, x=s.x, target=s.target, loss_fn=s.loss_fn)


def run(decoder_loss, s):
    with explain_errors("decoder_loss", ERRORS, called_with=arguments(s)):
        return decoder_loss(s.encoder, s.decoder, s.x, s.target, s.loss_fn)


def call(decoder_loss, s):
    loss = run(decoder_loss, s)
    if isinstance(loss, (float, int)) and not isinstance(loss, bool):
        raise AssertionError(Mistake(
            "ex17.returns_number", "a Python number returned instead of the loss tensor",
            f"decoder_loss returned a Python {type(loss).__name__} ({loss:.4g}): `.item()` (or `float(...)`) keeps the "
            "number and throws away the graph, and the caller needs the tensor to call `loss.backward()`. Return the "
            "tensor that loss_fn gives you."
        ))
    return expect_tensor(loss, "decoder_loss", "the loss")


NOT_SCALAR = Mistake(
    "ex17.not_a_scalar", "a loss that is not a scalar",
    "decoder_loss returned a tensor of shape {shape}; the loss is a scalar (shape ()), the single number "
    "`loss.backward()` starts from. Return what `loss_fn(output, target)` gives you, as it is."
)


def assert_loss(loss, s):
    """A scalar with the value of loss_fn(decoder(encoder(x)), target), or one message for every check."""
    if loss.dim() != 0:
        raise AssertionError(NOT_SCALAR.says(shape=tuple(loss.shape)))
    got = loss.detach().double().item()
    want = s.want_loss.double().item()
    if abs(got - want) > 1e-5 * max(1.0, abs(want)):
        raise AssertionError(Mistake(
            "ex17.wrong_loss_value", "a loss other than loss_fn(decoder(encoder(x)), target) (a softmax first, ...)",
            f"decoder_loss returned a loss of {got:.6g}; loss_fn(decoder(encoder(x)), target) is {want:.6g}. "
            "Stopping the gradient changes no value: run the encoder on x, the decoder on the encoder's output, and "
            "return `loss_fn(output, target)` with the decoder's output as it is (no softmax or other change: "
            "loss_fn does what it needs). Possible causes: a change of the decoder's output before the loss, "
            "a module run twice or skipped, or a lower precision (autocast) than the modules' own dtype."
        ))


def backward(loss):
    with explain_errors("loss.backward() on the loss decoder_loss returned", ERRORS):
        loss.backward()


def _names(params):
    return ", ".join(params[:4]) + (", ..." if len(params) > 4 else "")

