"""Takes the weight norm over model.state_dict()'s floating tensors: batch norm's running mean
and variance are buffers, not weights."""
EXPECT = "the norm of the parameters together with the floating-point buffers"
MISTAKE = "ex16.weight_norm_includes_buffers"

import torch


def clip_and_log(model, max_norm):
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    with torch.no_grad():
        tensors = [t for t in model.state_dict().values() if t.is_floating_point()]
        weight_norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in tensors]))
    return {"grad_norm": grad_norm.item(), "weight_norm": weight_norm.item()}
