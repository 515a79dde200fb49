"""Toggles the flag of matching parameters: an already frozen one gets unfrozen."""
EXPECT = "don't toggle the flag"
MISTAKE = "ex09.toggles"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    for name, p in model.named_parameters():
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            p.requires_grad = not p.requires_grad
            names.append(name)
    return sorted(names)
