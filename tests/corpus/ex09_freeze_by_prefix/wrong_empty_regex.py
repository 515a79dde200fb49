"""One regular expression joined from the prefixes: with no prefixes it is empty and matches every name."""
EXPECT = "an empty pattern such as"
MISTAKE = "ex09.empty_pattern_matches_all"

import re


def freeze_by_prefix(model, prefixes):
    pattern = re.compile("|".join(re.escape(p) + r"(\.|$)" for p in prefixes))
    names = []
    for name, p in model.named_parameters():
        if pattern.match(name):
            p.requires_grad_(False)
            names.append(name)
    return sorted(names)
