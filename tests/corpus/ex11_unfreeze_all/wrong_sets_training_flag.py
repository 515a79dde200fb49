"""Sets `model.training = True` to make the model "trainable": that is the train/eval mode,
not requires_grad, and the caller's model may be in eval mode."""
EXPECT = "switched the train/eval mode of (the model)"
MISTAKE = "ex11.mode_changed"


def unfreeze_all(model):
    frozen = 0
    for p in model.parameters():
        if not p.requires_grad:
            frozen += 1
            p.requires_grad_(True)
    model.training = True
    return frozen
