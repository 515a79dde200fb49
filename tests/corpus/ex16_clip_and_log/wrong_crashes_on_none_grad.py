"""Uses every p.grad without checking for None: crashes on the unused layer."""
EXPECT = "Some parameters have no gradient"
MISTAKE = "ex16.none_grad_not_skipped"

import torch


def clip_and_log(model, max_norm):
    with torch.no_grad():
        grad_norm = torch.stack([p.grad.norm() for p in model.parameters()]).norm().item()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    with torch.no_grad():
        weight_norm = torch.stack([p.norm() for p in model.parameters()]).norm().item()
    return {"grad_norm": grad_norm, "weight_norm": weight_norm}
