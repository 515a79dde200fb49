"""Clips by hand, writing the scaled values into each existing gradient with copy_."""

import torch


def clip_and_log(model, max_norm):
    with torch.no_grad():
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        total = torch.cat([g.reshape(-1) for g in grads]).norm()
        if total > max_norm:
            for g in grads:
                g.copy_(g * (max_norm / (total + 1e-6)))
        weight_norm = torch.cat([p.reshape(-1) for p in model.parameters()]).norm()
    return {"grad_norm": float(total), "weight_norm": float(weight_norm)}
