"""Logs the norms but never clips the gradients."""
EXPECT = "the gradients were not clipped"
MISTAKE = "ex16.no_clipping"

import torch


def clip_and_log(model, max_norm):
    with torch.no_grad():
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        grad_norm = torch.stack([g.norm() for g in grads]).norm().item()
        weight_norm = torch.stack([p.norm() for p in model.parameters()]).norm().item()
    return {"grad_norm": grad_norm, "weight_norm": weight_norm}
