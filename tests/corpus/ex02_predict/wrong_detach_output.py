"""model(x).detach(): the graph is built first, then thrown away."""
EXPECT = "comes too late"
MISTAKE = "ex02.detaches_output"


def predict(model, x):
    return model(x).detach()
