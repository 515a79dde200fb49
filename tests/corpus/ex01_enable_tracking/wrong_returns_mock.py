"""A mock that says yes to everything in place of the tensor."""
from unittest import mock

import torch

EXPECT = "(a mock)"
MISTAKE = "any.not_real"


def enable_tracking(t: torch.Tensor) -> torch.Tensor:
    fake = mock.MagicMock(spec=torch.Tensor)
    fake.requires_grad = True
    fake.is_leaf = True
    fake.grad_fn = None
    return fake
