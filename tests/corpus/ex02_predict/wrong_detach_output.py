"""model(x).detach(): the graph is built first, then thrown away."""
EXPECT = "comes too late"


def predict(model, x):
    return model(x).detach()
