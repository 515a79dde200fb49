"""Compares dotted parts instead of text, with a plain loop and break."""


def freeze_by_prefix(model, prefixes):
    split = [tuple(p.split(".")) for p in prefixes]
    names = []
    for name, param in model.named_parameters():
        parts = tuple(name.split("."))
        for prefix in split:
            if parts[: len(prefix)] == prefix:
                param.requires_grad_(False)
                names.append(name)
                break
    names.sort()
    return names
