"""No no_grad: the forward pass is recorded; .item() at the end doesn't undo that."""
EXPECT = "accuracy built a graph"


def accuracy(model, x, y):
    return (model(x).argmax(dim=1) == y).float().mean().item()
