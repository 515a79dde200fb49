"""In-place update while autograd records: RuntimeError on a leaf that requires grad."""
EXPECT = "Do the update inside `with torch.no_grad():`"
MISTAKE = "ex03.update_outside_no_grad"


def sgd_step(params, lr):
    for p in params:
        if p.grad is not None:
            p -= lr * p.grad
            p.grad = None
