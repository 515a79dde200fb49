"""Returns the number of all parameter tensors, not of the formerly frozen ones."""
EXPECT = "you counted every parameter tensor"
MISTAKE = "ex11.counts_all_parameters"


def unfreeze_all(model):
    params = list(model.parameters())
    for p in params:
        p.requires_grad_(True)
    return len(params)
