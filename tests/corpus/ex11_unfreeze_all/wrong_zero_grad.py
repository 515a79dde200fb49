"""Also clears the gradients ("fresh start"): the caller's .grad values are lost."""
EXPECT = "was changed or cleared by unfreeze_all"
MISTAKE = "ex11.grads_changed"


def unfreeze_all(model):
    frozen = sum(1 for p in model.parameters() if not p.requires_grad)
    model.requires_grad_(True)
    model.zero_grad()
    return frozen
