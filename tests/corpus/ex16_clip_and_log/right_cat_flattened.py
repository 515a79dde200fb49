"""torch.cat of the flattened gradients and parameters; a loop; inference_mode for the weight norm."""
import torch


def clip_and_log(model, max_norm):
    params = list(model.parameters())
    with torch.no_grad():
        flat = torch.cat([p.grad.flatten() for p in params if p.grad is not None])
        grad_norm = float(flat.norm())
        coef = max_norm / (grad_norm + 1e-6)
        if coef < 1:
            for p in params:
                if p.grad is not None:
                    p.grad *= coef
    with torch.inference_mode():
        weight_norm = float(torch.cat([p.reshape(-1) for p in params]).norm())
    return {"weight_norm": weight_norm, "grad_norm": grad_norm}
