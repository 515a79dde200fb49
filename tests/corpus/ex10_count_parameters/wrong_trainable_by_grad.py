"""Takes "has a .grad" for "trainable": before any backward, nothing is counted as trainable."""
EXPECT = "trainability was judged by `p.grad`"
MISTAKE = "ex10.trainable_by_grad"
NOT_EXPECT = "state_dict"


def count_parameters(model):
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.grad is not None), sum(p.numel() for p in params)
