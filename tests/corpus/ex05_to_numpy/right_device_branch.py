"""Moving only when the tensor is not on the CPU, step by step."""
import torch


def to_numpy(t):
    plain = t.detach()
    if plain.device != torch.device("cpu"):
        plain = plain.to("cpu")
    return plain.numpy()
