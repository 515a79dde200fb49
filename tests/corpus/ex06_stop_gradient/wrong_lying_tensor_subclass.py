"""A copy dressed as a view: a tensor subclass whose data_ptr() and storage answers claim t's memory."""
import torch

EXPECT = "a subclass of torch.Tensor"
MISTAKE = "any.not_real"


class _Claims(torch.Tensor):
    def data_ptr(self):
        return self.claimed


def stop_gradient(t: torch.Tensor) -> torch.Tensor:
    copy = t.detach().clone().as_subclass(_Claims)
    copy.claimed = t.data_ptr()
    return copy
