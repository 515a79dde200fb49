"""Simulated tensors off the CPU (a CUDA GPU, a device that is not CUDA), and real CUDA where there is one."""

from __future__ import annotations


import torch


class OffCPUTensor(torch.Tensor):
    """A CPU tensor that behaves, for conversion purposes, like one on a GPU.

    It reports `device` cuda:0 and `is_cuda` True, and refuses `numpy()` and
    `__array__` (with PyTorch's own message for a CUDA tensor) until it has been moved
    with `.cpu()` or `.to("cpu")`, which return a plain CPU tensor. Every other
    operation (`detach`, `clone`, arithmetic) keeps it "on the device". Built with
    `__torch_function__` only, so autograd and nn layers work on it unchanged.
    Subclasses simulate other devices by changing `DEVICE`.
    """

    DEVICE = torch.device("cuda", 0)

    @classmethod
    def refusal(cls) -> str:
        return (f"can't convert {cls.DEVICE} device type tensor to numpy. "
                "Use Tensor.cpu() to copy the tensor to host memory first.")

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.Tensor.numpy, torch.Tensor.__array__):
            if func is torch.Tensor.numpy and kwargs.get("force"):
                plain = args[0].detach().cpu()
                return plain.resolve_conj().resolve_neg().numpy()
            raise TypeError(cls.refusal())
        if func is torch.Tensor.tolist:
            with torch._C.DisableTorchFunctionSubclass():
                return func(*args, **kwargs)
        owner = getattr(func, "__self__", None)  # property getters arrive as `<descriptor>.__get__`
        if owner is torch.Tensor.device:
            return cls.DEVICE
        for kind, flag in _DEVICE_FLAGS.items():
            if owner is flag:
                return cls.DEVICE.type == kind
        if func is torch.Tensor.cpu or (func is torch.Tensor.to and _moves_to_cpu(args, kwargs)):
            with torch._C.DisableTorchFunctionSubclass():
                moved = torch.Tensor.clone(args[0])  # a real transfer is a copy
                if func is torch.Tensor.to:
                    dtype = next((a for a in args[1:] if isinstance(a, torch.dtype)), kwargs.get("dtype"))
                    if dtype is not None:
                        moved = moved.to(dtype)
            return moved
        return super().__torch_function__(func, types, args, kwargs)


class OffCPUNotCUDATensor(OffCPUTensor):
    """Like OffCPUTensor, on a device that is neither the CPU nor CUDA (Apple's mps): `is_cuda`
    is False, and `is_mps` True."""

    DEVICE = torch.device("mps", 0)


# the boolean properties that say where a tensor lives (those this PyTorch has)
_DEVICE_FLAGS = {kind: getattr(torch.Tensor, f"is_{kind}") for kind in ("cpu", "cuda", "mps", "xpu")
                 if hasattr(torch.Tensor, f"is_{kind}")}


def _moves_to_cpu(args, kwargs) -> bool:
    for value in list(args[1:]) + [kwargs.get("device")]:
        if isinstance(value, (str, torch.device)) and torch.device(value).type == "cpu":
            return True
        if isinstance(value, torch.Tensor) and not isinstance(value, OffCPUTensor) and value.device.type == "cpu":
            return True
    return False


SIMULATED_DEVICES = {"simulated-gpu": OffCPUTensor, "simulated-mps": OffCPUNotCUDATensor}


def off_cpu(t: torch.Tensor, kind: type = OffCPUTensor) -> torch.Tensor:
    """`t` as a simulated non-CPU tensor; a leaf stays a leaf with its requires_grad."""
    if t.is_leaf:
        out = t.detach().as_subclass(kind)
        return out.requires_grad_(t.requires_grad)
    return t.as_subclass(kind)


def devices_for_numpy() -> list[str]:
    """Non-CPU devices to check conversions on: the simulated ones (a CUDA GPU, and a device that is
    not CUDA), and real CUDA when present."""
    devices = list(SIMULATED_DEVICES)
    if torch.cuda.is_available():
        devices.append("cuda")
    return devices


def on_device(t: torch.Tensor, device: str) -> torch.Tensor:
    """Move a CPU tensor to `device` ("cpu", a simulated one or a real one), keeping leafness."""
    if device == "cpu":
        return t
    if device in SIMULATED_DEVICES:
        return off_cpu(t, SIMULATED_DEVICES[device])
    moved = t.detach().to(device)
    return moved.requires_grad_(t.requires_grad) if t.is_leaf else moved
