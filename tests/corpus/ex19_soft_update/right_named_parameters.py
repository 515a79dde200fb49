"""Pairs by name through named_parameters(); mul_ then add_ with alpha, set_grad_enabled block."""
import torch


def soft_update(target, source, tau):
    source_params = dict(source.named_parameters())
    with torch.set_grad_enabled(False):
        for name, p_t in target.named_parameters():
            p_t.mul_(1.0 - tau)
            p_t.add_(source_params[name], alpha=tau)
