"""Measures the gradient norm after clipping: the log shows max_norm at every step."""
EXPECT = "the norm AFTER clipping"
MISTAKE = "ex16.norm_after_clipping"

import torch


def clip_and_log(model, max_norm):
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    with torch.no_grad():
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        grad_norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        weight_norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p) for p in model.parameters()]))
    return {"grad_norm": grad_norm.item(), "weight_norm": weight_norm.item()}
