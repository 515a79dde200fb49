"""Returning the detached CPU tensor instead of an array."""
EXPECT = "to_numpy returned a torch.Tensor"
MISTAKE = "ex05.returns_tensor"


def to_numpy(t):
    return t.detach().cpu()
