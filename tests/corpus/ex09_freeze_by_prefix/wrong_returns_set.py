"""Returns a set of names: no order."""
EXPECT = "a set has no order"
MISTAKE = "ex09.returns_set"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = set()
    for name, p in model.named_parameters():
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            p.requires_grad_(False)
            names.add(name)
    return names
