"""named_parameters(remove_duplicate=False): a frozen shared weight is counted twice."""
EXPECT = "counted twice"
MISTAKE = "ex11.tied_counted_twice"


def unfreeze_all(model):
    frozen = [p for _, p in model.named_parameters(remove_duplicate=False) if not p.requires_grad]
    for p in frozen:
        p.requires_grad_(True)
    return len(frozen)
