"""model.get_submodule(prefix): fails for a prefix that names one parameter ("0.weight")."""
EXPECT = "cannot find every prefix"
MISTAKE = "ex09.get_submodule"


def freeze_by_prefix(model, prefixes):
    names = set()
    for prefix in prefixes:
        for name, p in model.get_submodule(prefix).named_parameters(prefix=prefix):
            p.requires_grad_(False)
            names.add(name)
    return sorted(names)
