"""Every module's own parameters (recurse=False), the model's included, each tensor once by id."""


def unfreeze_all(model):
    seen = set()
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if id(p) not in seen and not p.requires_grad:
                seen.add(id(p))
                p.requires_grad_(True)
    return len(seen)
