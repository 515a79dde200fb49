"""Takes the weight norm over every tensor of model.state_dict(): the integer counter
num_batches_tracked has no norm."""
EXPECT = "A norm was taken of an integer tensor"
MISTAKE = "ex16.norm_of_integer_buffer"

import torch


def clip_and_log(model, max_norm):
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    with torch.no_grad():
        norms = [torch.linalg.vector_norm(t) for t in model.state_dict().values()]
        weight_norm = torch.linalg.vector_norm(torch.stack(norms))
    return {"grad_norm": grad_norm.item(), "weight_norm": weight_norm.item()}
