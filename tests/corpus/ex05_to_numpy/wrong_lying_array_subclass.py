"""An ndarray subclass that lies: a copy whose `__array_interface__` claims the tensor's memory, so
that a check reading the address would think the array shares it."""
import numpy as np
import torch

EXPECT = "a subclass of numpy.ndarray"
MISTAKE = "any.not_real"


class _Shares(np.ndarray):
    @property
    def __array_interface__(self):
        interface = dict(super().__array_interface__)
        interface["data"] = (self.claimed, False)
        return interface


def to_numpy(t: torch.Tensor) -> np.ndarray:
    plain = t.detach().cpu()
    array = np.array(plain.numpy(), copy=True).view(_Shares)
    array.claimed = plain.data_ptr()
    return array
