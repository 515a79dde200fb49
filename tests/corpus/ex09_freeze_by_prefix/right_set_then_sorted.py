"""Loop over the prefixes (a list first), collect names in a set, sort at the end."""


def freeze_by_prefix(model, prefixes):
    params = dict(model.named_parameters())
    found = set()
    for prefix in list(prefixes):
        for name in params:
            if name == prefix or name.startswith(prefix + "."):
                found.add(name)
    for name in found:
        params[name].requires_grad = False
    return sorted(found)
