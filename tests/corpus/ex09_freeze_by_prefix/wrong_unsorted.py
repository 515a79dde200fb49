"""Names returned in the order of named_parameters(), not sorted."""
EXPECT = "the right names but not sorted"
MISTAKE = "ex09.unsorted"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    for name, p in model.named_parameters():
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            p.requires_grad_(False)
            names.append(name)
    return names
