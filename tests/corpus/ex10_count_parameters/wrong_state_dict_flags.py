"""Reads the flags from state_dict's tensors (detached copies: never requiring grad), the sizes from parameters()."""
EXPECT = "the flags read from `model.state_dict()`, whose tensors are detached copies"
MISTAKE = "ex10.no_trainable_seen"


def count_parameters(model):
    flags = {name: t.requires_grad for name, t in model.state_dict().items()}
    named = list(model.named_parameters())
    return sum(p.numel() for name, p in named if flags.get(name, False)), sum(p.numel() for _, p in named)
