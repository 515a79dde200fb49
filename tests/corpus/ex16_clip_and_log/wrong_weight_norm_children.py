"""Goes through the model's children for the weight norm: the model's own 0-dim scale belongs to
no child."""
EXPECT = "`model.children()` never reaches it"
MISTAKE = "ex16.weight_norm_skips_own_parameters"

import torch


def clip_and_log(model, max_norm):
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    with torch.no_grad():
        squares = sum(p.pow(2).sum() for child in model.children() for p in child.parameters())
    return {"grad_norm": grad_norm.item(), "weight_norm": squares.sqrt().item()}
