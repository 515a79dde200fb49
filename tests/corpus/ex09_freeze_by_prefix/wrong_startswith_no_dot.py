"""Text-only prefix test: name.startswith(prefix) lets "1" match "10.weight"."""
EXPECT = "is only the start of its text"
MISTAKE = "ex09.startswith_without_dot"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    for name, p in model.named_parameters():
        if any(name.startswith(prefix) for prefix in prefixes):
            p.requires_grad_(False)
            names.append(name)
    return sorted(names)
