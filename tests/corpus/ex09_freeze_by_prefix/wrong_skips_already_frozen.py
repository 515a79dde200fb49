"""Reports only the parameters it froze itself: matching parameters that were already frozen are left out."""
EXPECT = "which matches but was already frozen"
MISTAKE = "ex09.skips_already_frozen"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    for name, p in model.named_parameters():
        if p.requires_grad and any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            p.requires_grad_(False)
            names.append(name)
    return sorted(names)
