"""Models and parameters for the checks: tied weights, layer sizes, parameters each once, a model
that fails on purpose."""

from __future__ import annotations


import torch
from torch import nn
from .advice import RaisedByTheCheck


class TinyLM(nn.Module):
    """A small language model whose decoder shares the embedding's weight (tied weights):
    one parameter tensor held by two modules."""

    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.body = nn.Linear(dim, dim)
        self.decoder = nn.Linear(dim, vocab)
        self.decoder.weight = self.embedding.weight  # tied: one tensor, two modules

    def forward(self, tokens):
        return self.decoder(torch.tanh(self.body(self.embedding(tokens))))


def random_size(low: int, high: int) -> int:
    """A random size from `low` to `high - 1`, drawn from torch's generator (which every check seeds)."""
    return int(torch.randint(low, high, ()))


def unique_parameters(model: nn.Module) -> list[torch.Tensor]:
    """Every parameter tensor of `model` once, found module by module and told apart by identity (an
    oracle's view, independent of `model.parameters()`)."""
    unique = {}
    for p in parameter_slots(model):
        unique.setdefault(id(p), p)
    return list(unique.values())


def parameter_slots(model: nn.Module) -> list[torch.Tensor]:
    """The parameters as many times as modules hold them (a tied one once per module)."""
    return [p for m in model.modules() for p in m._parameters.values() if p is not None]


def adam_settings_changed(opt: torch.optim.Optimizer) -> str:
    """The settings other than lr of the first parameter group of an Adam where they are not Adam's defaults,
    in words ("weight_decay=0.01, betas=(0.9, 0.999), amsgrad=False"); "" when every group has the defaults."""
    for group in opt.param_groups:
        if not (group["weight_decay"] == 0 and group["betas"] == (0.9, 0.999) and not group["amsgrad"]):
            return f"weight_decay={group['weight_decay']}, betas={group['betas']}, amsgrad={group['amsgrad']}"
    return ""


class FailsOnPurpose(nn.Module):
    """A module whose forward fails halfway (after its layer ran), as one given a wrong input would:
    it raises `RaisedByTheCheck`, which `explain_errors` lets through for the check to catch."""

    def __init__(self, in_features: int, out_features: int, what: str = "this model"):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.what = what

    def forward(self, x):
        self.linear(x)
        raise RaisedByTheCheck(f"{self.what} fails on purpose")
