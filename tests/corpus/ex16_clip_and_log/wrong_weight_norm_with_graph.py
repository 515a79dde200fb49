"""The weight norm computed with tracking on: a graph is built over every parameter."""
EXPECT = "computing their norm with tracking on builds a graph"
MISTAKE = "ex16.graph_built"

import torch


def clip_and_log(model, max_norm):
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    weight_norm = sum(p.pow(2).sum() for p in model.parameters()).sqrt()
    return {"grad_norm": grad_norm.item(), "weight_norm": weight_norm.item()}
