"""Loop over the prefixes outside: a parameter matched by two prefixes is reported twice."""
EXPECT = "more than once: several prefixes match it"
MISTAKE = "ex09.duplicates"


def freeze_by_prefix(model, prefixes):
    names = []
    for prefix in prefixes:
        for name, p in model.named_parameters():
            if name == prefix or name.startswith(prefix + "."):
                p.requires_grad_(False)
                names.append(name)
    return sorted(names)
