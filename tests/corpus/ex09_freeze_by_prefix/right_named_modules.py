"""Walks the modules and each one's own parameters, naming them by path, each tensor once (first name)."""


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    seen, matched = set(), []
    for module_name, module in model.named_modules():
        for own, param in module.named_parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            name = f"{module_name}.{own}" if module_name else own
            if any(name == p or name.startswith(p + ".") for p in prefixes):
                param.requires_grad_(False)
                matched.append(name)
    return sorted(matched)
