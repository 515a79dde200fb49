"""model.eval() instead of no_grad: autograd still records (and the caller's mode changes)."""
EXPECT = "eval mode does not stop autograd"
MISTAKE = "ex02.eval_instead_of_no_grad"


def predict(model, x):
    model.eval()
    return model(x)
