"""Freezes the parameters to get the effect of no_grad."""
EXPECT = "Freezing the parameters is not the way"
MISTAKE = "ex02.requires_grad_changed"


def predict(model, x):
    for p in model.parameters():
        p.requires_grad_(False)
    return model(x)
