"""named_parameters(remove_duplicate=False): the tied weight is counted twice."""
EXPECT = "counted twice"
MISTAKE = "ex10.tied_counted_twice"


def count_parameters(model):
    params = [p for _, p in model.named_parameters(remove_duplicate=False)]
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
