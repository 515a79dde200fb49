"""The caller's t given a class of its own that reports no history, instead of being detached."""
import torch

EXPECT = "changed the class of an argument from Tensor to _NoHistory"
MISTAKE = "any.not_real"


class _NoHistory(torch.Tensor):
    @property
    def grad_fn(self):
        return None

    @property
    def is_leaf(self):
        return True

    @property
    def requires_grad(self):
        return False


def cut_history_(t: torch.Tensor) -> torch.Tensor:
    t.__class__ = _NoHistory
    return t
