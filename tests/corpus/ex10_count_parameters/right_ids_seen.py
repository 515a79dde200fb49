"""A loop over every slot, deduplicated by identity."""


def count_parameters(model):
    seen = set()
    trainable = total = 0
    for _, p in model.named_parameters(remove_duplicate=False):
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return trainable, total
