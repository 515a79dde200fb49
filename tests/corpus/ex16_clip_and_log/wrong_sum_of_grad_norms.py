"""Clips with the right API but logs the gradient norm as a sum of per-tensor norms."""
EXPECT = "the sum of the norms of the separate gradients"
MISTAKE = "ex16.sum_of_grad_norms"

import torch


def clip_and_log(model, max_norm):
    with torch.no_grad():
        grad_norm = sum(p.grad.norm().item() for p in model.parameters() if p.grad is not None)
        weight_norm = torch.cat([p.flatten() for p in model.parameters()]).norm().item()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    return {"grad_norm": grad_norm, "weight_norm": weight_norm}
