"""The weight norm as the sum of the per-parameter norms instead of the norm of all entries."""
EXPECT = "the sum of the norms of the separate parameters"
MISTAKE = "ex16.sum_of_weight_norms"

import torch


def clip_and_log(model, max_norm):
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    with torch.no_grad():
        weight_norm = sum(p.norm() for p in model.parameters())
    return {"grad_norm": grad_norm.item(), "weight_norm": weight_norm.item()}
