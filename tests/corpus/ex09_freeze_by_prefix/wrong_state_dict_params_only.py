"""Freezes the detached tensors of model.state_dict(): the model's own parameters keep requires_grad=True."""
EXPECT = "a tensor from `model.state_dict()` is a detached copy"
MISTAKE = "ex09.not_frozen"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    state = model.state_dict()
    for name, _ in model.named_parameters():
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            state[name].requires_grad_(False)
            names.append(name)
    return sorted(names)
