"""model.eval() instead of no_grad: autograd still records (and the caller's mode changes)."""
EXPECT = "eval mode does not stop autograd"


def predict(model, x):
    model.eval()
    return model(x)
