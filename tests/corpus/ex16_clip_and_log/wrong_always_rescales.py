"""Scales the gradients to norm max_norm even when they are already smaller (normalizing, not clipping)."""
EXPECT = "Clipping only ever shrinks"
MISTAKE = "ex16.always_rescales"

import torch


def clip_and_log(model, max_norm):
    with torch.no_grad():
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        total = torch.stack([g.norm() for g in grads]).norm()
        for g in grads:
            g.mul_(max_norm / (total + 1e-6))
        weight_norm = torch.stack([p.norm() for p in model.parameters()]).norm().item()
    return {"grad_norm": total.item(), "weight_norm": weight_norm}
