"""Switches requires_grad on the gradient (p.grad) instead of on the parameter."""
EXPECT = "the flag was switched on the gradient `p.grad`"
MISTAKE = "ex11.grad_flag_switched"
NOT_EXPECT = "Tensors from `model.state_dict()` are detached copies"


def unfreeze_all(model):
    frozen = 0
    for p in model.parameters():
        if not p.requires_grad:
            frozen += 1
            if p.grad is not None:
                p.grad.requires_grad_(True)
    return frozen
