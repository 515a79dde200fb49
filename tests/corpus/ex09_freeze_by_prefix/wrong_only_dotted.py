"""Only name.startswith(prefix + "."): a prefix that is a full parameter name ("0.weight") matches nothing."""
EXPECT = "although that name equals a prefix"
MISTAKE = "ex09.full_name_not_matched"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    for name, p in model.named_parameters():
        if any(name.startswith(prefix + ".") for prefix in prefixes):
            p.requires_grad_(False)
            names.append(name)
    return sorted(names)
