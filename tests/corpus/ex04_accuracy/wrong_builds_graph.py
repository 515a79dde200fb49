"""No no_grad: the forward pass is recorded; .item() at the end doesn't undo that."""
EXPECT = "accuracy built a graph"
MISTAKE = "ex04.graph_built"


def accuracy(model, x, y):
    return (model(x).argmax(dim=1) == y).float().mean().item()
