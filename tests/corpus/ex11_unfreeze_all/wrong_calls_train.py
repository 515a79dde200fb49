"""Puts the model in train mode as well: trainable and training mode are different things."""
EXPECT = "switched the train/eval mode"
MISTAKE = "ex11.mode_changed"


def unfreeze_all(model):
    frozen = sum(1 for p in model.parameters() if not p.requires_grad)
    model.requires_grad_(True)
    model.train()
    return frozen
