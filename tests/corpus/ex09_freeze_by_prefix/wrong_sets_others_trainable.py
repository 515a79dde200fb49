"""Sets every flag from the match: non-matching parameters get requires_grad=True (frozen ones are unfrozen)."""
EXPECT = "freeze_by_prefix unfroze it"
MISTAKE = "ex09.unfreezes_others"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    for name, p in model.named_parameters():
        match = any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)
        p.requires_grad_(not match)
        if match:
            names.append(name)
    return sorted(names)
