"""Takes "frozen" to mean "has no gradient": unfreezes (and counts) the parameters whose .grad
is None. A parameter frozen after a backward keeps its .grad and stays frozen."""
EXPECT = "exactly those that had a .grad before the call"
MISTAKE = "ex11.decided_by_grad"
NOT_EXPECT = "Tensors from `model.state_dict()` are detached copies"


def unfreeze_all(model):
    frozen = [p for p in model.parameters() if p.grad is None]
    for p in frozen:
        p.requires_grad_(True)
    return len(frozen)
