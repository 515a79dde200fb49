"""Count first with a generator, then Module.requires_grad_(True) (which touches parameters only)."""


def unfreeze_all(model):
    frozen = sum(not p.requires_grad for p in model.parameters())
    model.requires_grad_(True)
    return int(frozen)
