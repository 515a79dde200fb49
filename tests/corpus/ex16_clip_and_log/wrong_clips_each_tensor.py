"""Clips every gradient separately to max_norm: the step changes direction."""
EXPECT = "each gradient was clipped separately"
MISTAKE = "ex16.clips_each_tensor"

import torch


def clip_and_log(model, max_norm):
    with torch.no_grad():
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        grad_norm = torch.stack([g.norm() for g in grads]).norm().item()
        for g in grads:
            n = g.norm()
            if n > max_norm:
                g.mul_(max_norm / (n + 1e-6))
        weight_norm = torch.stack([p.norm() for p in model.parameters()]).norm().item()
    return {"grad_norm": grad_norm, "weight_norm": weight_norm}
