"""Lists the parameters with remove_duplicate=False: a tied weight also answers to its second module's name."""
EXPECT = "You reported a tied weight under the name of its second holder"
MISTAKE = "ex09.tied_second_name"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    matched = set()
    for name, param in model.named_parameters(remove_duplicate=False):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            param.requires_grad_(False)
            matched.add(name)
    return sorted(matched)
