"""Switches the flags of model.state_dict()'s floating tensors: detached copies, the parameters stay frozen."""
EXPECT = "the tensors of `model.state_dict()` are detached copies"
MISTAKE = "ex11.not_unfrozen"


def unfreeze_all(model):
    frozen = sum(1 for p in model.parameters() if not p.requires_grad)
    for t in model.state_dict().values():
        if t.is_floating_point():
            t.requires_grad_(True)
    return frozen
