"""Calls model.zero_grad(set_to_none=True) while freezing: the other parameters lose their gradients."""
EXPECT = "was changed or cleared"
MISTAKE = "ex09.grads_changed"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    model.zero_grad(set_to_none=True)
    names = []
    for name, p in model.named_parameters():
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            p.requires_grad_(False)
            names.append(name)
    return sorted(names)
