"""Goes through model.state_dict(): detached copies (flags never reach the parameters) and buffers included."""
EXPECT = "not a parameter but a buffer"
MISTAKE = "ex09.buffers_included"


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    for name, t in model.state_dict().items():
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            t.requires_grad_(False)
            names.append(name)
    return sorted(names)
