"""Also puts the matched submodules in eval mode: freezing is about requires_grad only."""
EXPECT = "switched the train/eval mode"
MISTAKE = "ex09.mode_changed"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    for name, p in model.named_parameters():
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            p.requires_grad_(False)
            names.append(name)
    for name, module in model.named_modules():
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            module.eval()
    return sorted(names)
