"""p_t.lerp_(p_s, tau) under no_grad: p_t + tau * (p_s - p_t)."""
import torch


def soft_update(target, source, tau):
    with torch.no_grad():
        for p_t, p_s in zip(target.parameters(), source.parameters()):
            p_t.lerp_(p_s, tau)
