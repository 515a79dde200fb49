"""A loop over every slot with a set of ids, setting the attribute."""


def unfreeze_all(model):
    seen = set()
    for _, p in model.named_parameters(remove_duplicate=False):
        if not p.requires_grad:
            seen.add(id(p))
            p.requires_grad = True
    return len(seen)
