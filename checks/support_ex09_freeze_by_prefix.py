"""The models of ex09's checks and the helpers that call `freeze_by_prefix` and say what it did
(checks/test_ex09_freeze_by_prefix.py holds the checks)."""

from __future__ import annotations

import torch
from torch import nn

from checks.instruments import Mistake, describe_args, explain_errors, snapshot

# Two models where the dot boundary matters. Parameter names:
#   seq12:  0.weight, 0.bias, 1.weight, ..., 10.weight, 10.bias, 11.weight, 11.bias
#   nested: encoder.layer1.*, encoder.layer2.*, encoder.layer10.*, encoder.norm.* (batch norm,
#           with buffers), encoder_proj.*, head.*
WIDTH, BATCH = 4, 5

# id -> (model, prefixes, parameters frozen before the call); weights and grads are random per check
CASES = {
    "seq12-prefix-1": ("seq12", ["1"], ["1.bias", "3.weight", "10.bias"]),
    "nested-encoder.layer1+head": ("nested", ["encoder.layer1", "head"],
                                   ["encoder.layer1.bias", "encoder.layer10.weight", "encoder_proj.bias"]),
    "full-name-0.weight+11": ("seq12", ["0.weight", "11"], ["0.bias", "11.weight"]),
    "overlapping-encoder+encoder.layer1": ("nested", ["encoder", "encoder.layer1", "encoder.norm.weight"],
                                           ["encoder.layer2.weight", "head.bias"]),
    "overlapping-1+1.weight": ("seq12", ["2", "1.weight", "1"], ["2.bias", "11.bias"]),
}

MODEL_WORDS = {
    "seq12": "an nn.Sequential of 12 Linear layers (children 0 to 11)",
    "nested": "a model with submodules encoder.layer1, encoder.layer2, encoder.layer10, encoder.norm, "
    "encoder_proj and head",
}

ERRORS = {
    r"is not an nn\.Module|has no attribute `": Mistake(
        "ex09.get_submodule", "looking prefixes up as submodules (get_submodule), which misses full parameter names",
        "A prefix can be the full name of one parameter (such as '0.weight'), not only the name of a "
        "submodule, so `model.get_submodule(prefix)` cannot find every prefix. Go through "
        "`model.named_parameters()` and compare each name with the prefixes."
    ),
    r"'generator' object is not subscriptable|has no len\(\)|'generator' object has no attribute": Mistake(
        "ex09.prefixes_as_list", "`prefixes` used as a list (len, indexing) when it may be a generator",
        "`prefixes` may be a generator: it has no length, no indexing and no list methods. "
        "Make a list of it first: `prefixes = list(prefixes)`."
    ),
}


# --------------------------------------------------------------------------- models


def _build(kind):
    if kind == "seq12":
        return nn.Sequential(*[nn.Linear(WIDTH, WIDTH) for _ in range(12)])
    model = nn.Module()
    model.encoder = nn.Module()
    model.encoder.layer1 = nn.Linear(WIDTH, WIDTH)
    model.encoder.layer2 = nn.Linear(WIDTH, WIDTH)
    model.encoder.layer10 = nn.Linear(WIDTH, WIDTH)
    model.encoder.norm = nn.BatchNorm1d(WIDTH)
    model.encoder_proj = nn.Linear(WIDTH, WIDTH)
    model.head = nn.Linear(WIDTH, 2)
    return model


def _forward(kind, model, x):
    if kind == "seq12":
        return model(x)
    enc = model.encoder
    h = enc.norm(enc.layer10(enc.layer2(enc.layer1(x)).tanh()))
    return model.head(model.encoder_proj(h).tanh())


def make_model(case):
    """A model with random weights, a .grad on every parameter, some parameters frozen, and one
    submodule in eval mode (so that switching modes shows)."""
    kind, prefixes, frozen = CASES[case]
    model = _build(kind)
    _forward(kind, model, torch.randn(BATCH, WIDTH)).pow(2).mean().backward()
    params = dict(model.named_parameters())
    for name in frozen:
        params[name].requires_grad_(False)
    (model[5] if kind == "seq12" else model.encoder.norm).eval()
    return model, list(prefixes)


def matching(model, prefixes):
    """The oracle: names whose dotted parts begin with all of some prefix's dotted parts."""
    found = []
    for name, _ in model.named_parameters():
        parts = name.split(".")
        if any(parts[: len(p.split("."))] == p.split(".") for p in prefixes):
            found.append(name)
    return sorted(found)


# --------------------------------------------------------------------------- helpers


def call(freeze_by_prefix, model, prefixes):
    with explain_errors("freeze_by_prefix", ERRORS, called_with=describe_args(model=model, prefixes=prefixes)):
        return freeze_by_prefix(model, prefixes)


def _describe(case_or_model, prefixes):
    return f"with prefixes {list(prefixes)!r} on {MODEL_WORDS[CASES[case_or_model][0]]}"


def _names(items, limit=4):
    items = list(items)
    shown = ", ".join(repr(n) for n in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def expect_names(result):
    """The result must be a list of strings."""
    if isinstance(result, (set, frozenset)):
        raise AssertionError(Mistake(
            "ex09.returns_set", "a set returned instead of a sorted list",
            f"freeze_by_prefix returned a {type(result).__name__}: a set has no order (and prints in any order). "
            "Return a sorted list of names: `sorted(names)` takes any iterable and returns a list."
        ))
    if not isinstance(result, list):
        raise AssertionError(Mistake(
            "ex09.not_a_list", "something else than a list of names returned",
            f"freeze_by_prefix returned {type(result).__name__} ({str(result)[:80]}); a list of parameter names "
            "is expected, such as ['1.bias', '1.weight']. `sorted(names)` returns a list."
        ))
    bad = [item for item in result if not isinstance(item, str)]
    if bad:
        raise AssertionError(Mistake(
            "ex09.not_names", "parameters or (name, parameter) pairs returned instead of names",
            f"freeze_by_prefix returned a list holding {type(bad[0]).__name__} items ({str(bad[0])[:60]}); "
            "it must hold the parameters' qualified names only (strings such as '1.weight'), not the parameters "
            "or (name, parameter) pairs."
        ))
    return result


def assert_matched(result, model, prefixes, before, where):
    """The result names exactly the matching parameters (as a set), or the message says what went wrong."""
    expect_names(result)
    want = set(matching(model, prefixes))
    got = set(result)
    params = set(before.params)
    not_params = sorted(got - params)
    if not_params:
        buffers = {n for n, _ in model.named_buffers()}
        if any(n in buffers for n in not_params):
            raise AssertionError(Mistake(
                "ex09.buffers_included", "buffers (from state_dict) reported as parameters",
                f"{where}, freeze_by_prefix returned {_names(not_params)}, which is not a parameter but a buffer "
                "(batch-norm running statistics: model.state_dict() lists those too). Only parameters can be "
                "frozen: go through `model.named_parameters()`, whose tensors are the model's own parameters."
            ))
        raise AssertionError(Mistake(
            "ex09.unknown_names", "names that are not the model's parameter names",
            f"{where}, freeze_by_prefix returned {_names(not_params)}, which is not the name of any parameter of "
            "the model. Return the qualified names given by `model.named_parameters()`."
        ))
    extra = sorted(got - want)
    if extra:
        by_text = [(n, p) for n in extra for p in prefixes if n.startswith(p)]
        if by_text:
            name, prefix = by_text[0]
            raise AssertionError(Mistake(
                "ex09.startswith_without_dot", "name.startswith(prefix) without the dot ('1' matching '10.weight')",
                f"{where}, freeze_by_prefix matched {_names(n for n, _ in by_text)}: prefix {prefix!r} is only the "
                f"start of its text, not of its path ({name!r} lies in a different submodule). The dot is the "
                f"boundary between names: a name matches a prefix when it equals the prefix or starts with "
                f"prefix + '.', so '1' matches '1.weight' but not '10.weight'."
            ))
        raise AssertionError(Mistake(
            "ex09.extra_names", "names reported that no prefix matches",
            f"{where}, freeze_by_prefix returned {_names(extra)}, which no prefix names. Return only the names "
            "that equal a prefix or start with prefix + '.'."
        ))
    missing = sorted(want - got)
    if missing:
        full = [n for n in missing if n in prefixes]
        if full:
            raise AssertionError(Mistake(
                "ex09.full_name_not_matched", "a prefix that is a full parameter name not matched (only prefix + '.' tried)",
                f"{where}, freeze_by_prefix did not match {_names(full)}, although that name equals a prefix. A "
                "prefix can be the full name of one parameter: a name matches when it equals the prefix, or "
                "starts with prefix + '.'."
            ))
        was_frozen = [n for n in missing if not before.params[n].requires_grad]
        if was_frozen and len(was_frozen) == len(missing):
            raise AssertionError(Mistake(
                "ex09.skips_already_frozen", "matching parameters that were already frozen left out",
                f"{where}, freeze_by_prefix left out {_names(was_frozen)}, which matches but was already frozen "
                "before the call. A matching parameter is reported whatever its flag was: it is frozen afterwards "
                "either way. Don't skip parameters whose requires_grad is already False."
            ))
        raise AssertionError(Mistake(
            "ex09.missed_names", "matching parameters missed",
            f"{where}, freeze_by_prefix missed {_names(missing)} (expected {_names(sorted(want), 8)}, got "
            f"{_names(result, 8)}). A name matches a prefix when it equals the prefix or starts with prefix + '.'."
        ))


def assert_frozen(model, prefixes, before, where):
    for name, param in model.named_parameters():
        if name not in matching(model, prefixes):
            continue
        if before.params[name].requires_grad:
            assert not param.requires_grad, Mistake(
                "ex09.not_frozen", "a matching parameter not frozen (compared instead of set, or a state_dict copy frozen)",
                f"{where}, parameter {name!r} matches, but it still requires grad: it was not frozen. Call "
                "`param.requires_grad_(False)` (with the parentheses) on the model's own parameter, as given by "
                "`model.named_parameters()`. (`param.requires_grad == False` only compares; a tensor from "
                "`model.state_dict()` is a detached copy, and switching the copy's flag changes nothing.)"
            )
        else:
            assert not param.requires_grad, Mistake(
                "ex09.toggles", "toggling the flag, which unfreezes an already frozen match",
                f"{where}, parameter {name!r} matches and was already frozen, but freeze_by_prefix switched it "
                "back on (requires_grad is now True). Freezing a matching parameter means requires_grad_(False), "
                "whatever it was before: don't toggle the flag."
            )


def frozen_by(freeze_by_prefix, case):
    """A case's model and prefixes, what the model was, what freeze_by_prefix returned (the names it must
    return, or the message that says what is wrong with them), and the case in words."""
    model, prefixes = make_model(case)
    before = snapshot(model)
    result = call(freeze_by_prefix, model, prefixes)
    where = _describe(case, prefixes)
    assert_matched(result, model, prefixes, before, where)
    return model, prefixes, before, result, where
