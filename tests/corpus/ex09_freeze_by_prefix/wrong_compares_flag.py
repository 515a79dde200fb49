"""`p.requires_grad == False`: compares instead of assigning, so nothing is frozen."""
EXPECT = "only compares"
MISTAKE = "ex09.not_frozen"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    for name, p in model.named_parameters():
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            p.requires_grad == False  # noqa: E712
            names.append(name)
    return sorted(names)
