"""Everything by hand under no_grad with torch.linalg.vector_norm."""
import torch


def clip_and_log(model, max_norm):
    with torch.no_grad():
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        if total > max_norm:
            for g in grads:
                g.mul_(max_norm / (total + 1e-6))
        weight_norm = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p) for p in model.parameters()])
        )
    return {"grad_norm": total.item(), "weight_norm": weight_norm.item()}
