"""torch._foreach_lerp_ over the two lists of parameters, under no_grad (one fused call)."""
import torch


def soft_update(target, source, tau):
    with torch.no_grad():
        torch._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)
