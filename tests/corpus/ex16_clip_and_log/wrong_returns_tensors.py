"""Returns the norms as 0-dim tensors instead of Python floats."""
EXPECT = "a plain Python float is expected"
MISTAKE = "any.tensor_not_number"

import torch


def clip_and_log(model, max_norm):
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    with torch.no_grad():
        weight_norm = torch.linalg.vector_norm(torch.stack([p.norm() for p in model.parameters()]))
    return {"grad_norm": grad_norm, "weight_norm": weight_norm}
