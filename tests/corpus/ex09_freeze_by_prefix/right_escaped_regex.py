"""One regular expression with the dot boundary; the empty case handled on its own."""
import re


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    if not prefixes:
        return []
    pattern = re.compile("(?:" + "|".join(re.escape(p) for p in prefixes) + r")(?:\.|$)")
    names = [n for n, p in model.named_parameters() if pattern.match(n)]
    for name, p in model.named_parameters():
        if name in names:
            p.requires_grad_(False)
    return sorted(names)
