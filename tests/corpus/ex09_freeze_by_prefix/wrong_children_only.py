"""Goes through the model's children and their parameters: the model's own parameters are never seen."""
EXPECT = "You missed a parameter of the model itself"
MISTAKE = "ex09.root_parameters_missed"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    matched = []
    for child_name, child in model.named_children():
        for name, param in child.named_parameters(prefix=child_name):
            if any(name == p or name.startswith(p + ".") for p in prefixes):
                param.requires_grad_(False)
                matched.append(name)
    return sorted(matched)
