"""Moves the tensor to the CPU only when it is on CUDA: a tensor on another device (Apple's
mps, Intel's xpu) goes straight to numpy(), which refuses it."""
EXPECT = "`t.is_cuda` is False for a tensor on mps"
MISTAKE = "ex05.not_moved_to_cpu"


def to_numpy(t):
    if t.is_cuda:
        return t.detach().cpu().numpy()
    else:
        return t.detach().numpy()
