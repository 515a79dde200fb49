"""The weight norm only over the parameters that have a gradient."""
EXPECT = "the norm of the parameters that have a gradient only"
MISTAKE = "ex16.weight_norm_skips_no_grad"

import torch


def clip_and_log(model, max_norm):
    params = [p for p in model.parameters() if p.grad is not None]
    grad_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    with torch.no_grad():
        weight_norm = torch.stack([p.norm() for p in params]).norm()
    return {"grad_norm": grad_norm.item(), "weight_norm": weight_norm.item()}
