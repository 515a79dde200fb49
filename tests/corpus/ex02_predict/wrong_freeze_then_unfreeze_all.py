"""Freezes, predicts, then unfreezes everything: the caller's frozen parameters become trainable."""
EXPECT = "had requires_grad=False and now has requires_grad=True"
MISTAKE = "ex02.requires_grad_changed"


def predict(model, x):
    for p in model.parameters():
        p.requires_grad_(False)
    out = model(x)
    for p in model.parameters():
        p.requires_grad_(True)
    return out
