"""Scales each gradient with `p.grad = p.grad * factor`: the right values, but in a new tensor
instead of the gradient the caller holds."""
EXPECT = "is a new tensor: `p.grad = p.grad * factor` puts a new tensor"
MISTAKE = "ex16.grad_rebound"

import torch


def clip_and_log(model, max_norm):
    with torch.no_grad():
        grads = [p for p in model.parameters() if p.grad is not None]
        total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in grads]))
        if total > max_norm:
            for p in grads:
                p.grad = p.grad * (max_norm / (total + 1e-6))
        weights = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p) for p in model.parameters()]))
    return {"grad_norm": total.item(), "weight_norm": weights.item()}
