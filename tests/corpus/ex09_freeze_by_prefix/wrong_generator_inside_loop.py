"""Goes through `prefixes` inside the loop over the parameters: a generator is used up by the first parameter."""
EXPECT = "the first parameter uses it up"
MISTAKE = "ex09.generator_used_up"


def freeze_by_prefix(model, prefixes):
    names = []
    for name, p in model.named_parameters():
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            p.requires_grad_(False)
            names.append(name)
    return sorted(names)
