"""clip_grad_norm_ over a list; the weight norm as sqrt of a sum of squares, all under no_grad."""
import math

import torch


def clip_and_log(model, max_norm):
    params = list(model.parameters())
    with torch.no_grad():
        grad_norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()
        squares = 0.0
        for p in params:
            squares += p.pow(2).sum().item()
    return {"grad_norm": grad_norm, "weight_norm": math.sqrt(squares)}
