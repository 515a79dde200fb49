"""Checks for ex09: freeze_by_prefix(model, prefixes) freezes the parameters named by the prefixes
(dot boundary), changes nothing else, and returns their names sorted, each once."""

import copy

import pytest
import torch
from torch import nn

from checks.instruments import Mistake, grad_mode_kept, oracle, snapshot
from checks.structures import MODEL_SPACE, Case, compare, describe_case, model_for
from checks.support_ex09_freeze_by_prefix import (CASES, ERRORS, _describe, _names, assert_frozen, assert_matched, call,
                                                 expect_names, frozen_by, make_model, matching)


@pytest.fixture
def freeze_by_prefix(learner):
    return learner


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize("case", ["seq12-prefix-1", "nested-encoder.layer1+head"])
def test_prefix_stops_at_a_dot(freeze_by_prefix, case):
    frozen_by(freeze_by_prefix, case)


@pytest.mark.parametrize("case", ["full-name-0.weight+11"])
def test_prefix_can_be_a_full_name(freeze_by_prefix, case):
    frozen_by(freeze_by_prefix, case)


@pytest.mark.parametrize("case", ["overlapping-encoder+encoder.layer1", "nested-encoder.layer1+head"])
def test_several_prefixes(freeze_by_prefix, case):
    frozen_by(freeze_by_prefix, case)


@pytest.mark.parametrize("case", ["seq12-prefix-1", "overlapping-encoder+encoder.layer1"])
def test_names_are_sorted(freeze_by_prefix, case):
    _, _, _, result, where = frozen_by(freeze_by_prefix, case)
    unique = list(dict.fromkeys(result))
    assert unique == sorted(unique), Mistake(
        "ex09.unsorted", "names not sorted",
        f"{where}, freeze_by_prefix returned the right names but not sorted: {_names(result, 6)}. "
        "The order of model.named_parameters() (or of the prefixes) is not alphabetical: return `sorted(names)`."
    )


@pytest.mark.parametrize("case", ["overlapping-encoder+encoder.layer1", "overlapping-1+1.weight"])
def test_each_name_once(freeze_by_prefix, case):
    model, prefixes, _, result, where = frozen_by(freeze_by_prefix, case)
    twice = sorted({n for n in result if result.count(n) > 1})
    if twice:
        hits = [p for p in prefixes if matching(model, [p]).count(twice[0])]
        raise AssertionError(Mistake(
            "ex09.duplicates", "a name reported once per matching prefix",
            f"{where}, freeze_by_prefix returned {_names(twice)} more than once: several prefixes match "
            f"{'it' if len(twice) == 1 else 'each of them'} ({_names(hits)} {'both' if len(hits) == 2 else 'all'} "
            f"match {twice[0]!r}). Report each parameter once: loop over the parameters and ask "
            "whether any prefix matches, or collect the names in a set and sort it."
        ))


@pytest.mark.parametrize("case", CASES)
def test_matching_parameters_are_frozen(freeze_by_prefix, case):
    model, prefixes, before, _, where = frozen_by(freeze_by_prefix, case)
    assert_frozen(model, prefixes, before, where)


@pytest.mark.parametrize("case", ["seq12-prefix-1", "nested-encoder.layer1+head"])
def test_frozen_matches_stay_frozen_and_are_reported(freeze_by_prefix, case):
    model, prefixes, before, _, where = frozen_by(freeze_by_prefix, case)
    assert any(not before.params[n].requires_grad for n in matching(model, prefixes))  # the case has one
    assert_frozen(model, prefixes, before, where)


@pytest.mark.parametrize("case", CASES)
def test_other_parameters_keep_their_flags(freeze_by_prefix, case):
    model, prefixes, before, _, where = frozen_by(freeze_by_prefix, case)
    chosen = set(matching(model, prefixes))
    for name, param in model.named_parameters():
        was = before.params[name].requires_grad
        if name in chosen or param.requires_grad == was:
            continue
        if was:
            raise AssertionError(Mistake(
                "ex09.freezes_others", "parameters that match no prefix frozen too",
                f"{where}, parameter {name!r} does not match any prefix but was frozen (requires_grad was True, "
                "now False). Freeze only the parameters that match; leave the others exactly as they were."
            ))
        raise AssertionError(Mistake(
            "ex09.unfreezes_others", "parameters that match no prefix set trainable",
            f"{where}, parameter {name!r} does not match any prefix and was frozen before the call, but "
            "freeze_by_prefix unfroze it (requires_grad is now True). Don't set requires_grad on the parameters "
            "that don't match: the caller froze that one on purpose, and it must stay frozen."
        ))


@pytest.mark.parametrize("case", ["seq12-prefix-1", "overlapping-encoder+encoder.layer1"])
def test_parameters_stay_the_same_objects(freeze_by_prefix, case):
    model, prefixes = make_model(case)
    before = snapshot(model)
    result = call(freeze_by_prefix, model, prefixes)
    where = _describe(case, prefixes)
    replaced = before.replaced(model)
    assert not replaced, Mistake(
        "ex09.replaces_parameters", "parameters replaced by new objects",
        f"{where}, parameter {_names(replaced)} was replaced by a new object. The optimizer, the caller and "
        "other modules (tied weights) hold the original parameter: a new one is invisible to them. Freeze "
        "the parameter itself, in place: `param.requires_grad_(False)`."
    )
    assert_matched(result, model, prefixes, before, where)
    changed = before.moved(model)
    assert not changed, Mistake(
        "ex09.values_changed", "parameters' values changed",
        f"{where}, the values of {_names(changed)} changed. Freezing keeps a parameter's values: it only "
        "switches its requires_grad flag off."
    )


@pytest.mark.parametrize("case", ["seq12-prefix-1", "overlapping-encoder+encoder.layer1"])
def test_accepts_a_generator(freeze_by_prefix, case):
    model, prefixes = make_model(case)
    twin = copy.deepcopy(model)
    before = snapshot(model)
    result = call(freeze_by_prefix, model, (p for p in prefixes))
    where = f"{_describe(case, prefixes)} given as a generator"
    expect_names(result)
    if set(result) != set(matching(model, prefixes)):
        with_list = call(freeze_by_prefix, twin, list(prefixes))
        if isinstance(with_list, list) and set(with_list) == set(matching(twin, prefixes)):
            raise AssertionError(Mistake(
                "ex09.generator_used_up", "a generator of prefixes gone through inside the loop over parameters",
                f"{where}, freeze_by_prefix matched {_names(sorted(set(result))) or 'nothing'}, while with the "
                "same prefixes in a list it matches the right parameters. A generator can be gone through only "
                "once: if you loop over `prefixes` inside your loop over the parameters, the first parameter "
                "uses it up and no later parameter can match. Make a list first: `prefixes = list(prefixes)`."
            ))
    assert_matched(result, model, prefixes, before, where)
    assert_frozen(model, prefixes, before, where)


@pytest.mark.parametrize("empty", ["empty-list", "empty-generator"])
def test_no_prefixes_match_nothing(freeze_by_prefix, empty):
    model, _ = make_model("nested-encoder.layer1+head")
    before = snapshot(model)
    result = call(freeze_by_prefix, model, [] if empty == "empty-list" else iter(()))
    how = "an empty list" if empty == "empty-list" else "an empty generator"
    expect_names(result)
    assert result == [], Mistake(
        "ex09.empty_pattern_matches_all", "no prefixes matching everything (an empty regular expression)",
        f"with no prefixes ({how}) nothing matches, but freeze_by_prefix returned {_names(result)}. "
        "(A pattern joined from no prefixes is empty, and an empty pattern such as `re.match('', name)` matches "
        "every name.) Return [] and change nothing."
    )
    flipped = [n for n, p in model.named_parameters() if p.requires_grad != before.params[n].requires_grad]
    assert not flipped, Mistake(
        "ex09.changes_with_no_prefixes", "flags changed although no prefix was given",
        f"with no prefixes ({how}) nothing matches, but the requires_grad flag of {_names(flipped)} changed. "
        "Change no parameter when no prefix matches it."
    )


@pytest.mark.parametrize("caller", ["grad-enabled", "inside-no_grad"])
def test_modes_grads_and_grad_mode_untouched(freeze_by_prefix, caller):
    case = "nested-encoder.layer1+head"
    model, prefixes = make_model(case)
    before = snapshot(model)
    with grad_mode_kept("freeze_by_prefix", caller=caller):
        result = call(freeze_by_prefix, model, prefixes)
    where = _describe(case, prefixes)
    assert_matched(result, model, prefixes, before, where)
    switched = before.switched(model)
    assert not switched, Mistake(
        "ex09.mode_changed", "switching the train/eval mode",
        f"{where}, freeze_by_prefix switched the train/eval mode of {_names(switched)}. Freezing is about "
        "`requires_grad` only: eval mode changes what layers do (dropout, batch norm) and is the caller's choice. "
        "Don't call .eval() or .train()."
    )
    chosen = set(matching(model, prefixes))
    regraded = [name for name in before.regraded(model) if name not in chosen]
    assert not regraded, Mistake(
        "ex09.grads_changed", "gradients of other parameters changed or cleared",
        f"{where}, the .grad of {regraded[0]!r}, which does not match any prefix, was changed or cleared. Leave "
        "parameters that don't match exactly as they were, their gradients included."
    )


# --------------------------------------------------------------------------- against the reference, on generated models


# models of the structures the contract allows (depth, nesting, parameters of the model itself and 0-d ones,
# batch norm, tied weights, frozen mixes, gradients, modes), and prefixes naming a layer, one full parameter
# name, the whole body, a parameter of the model itself, the second holder of a tied weight, or nothing
def _described(case):
    model = Case((dim, value) for dim, value in _effective(case).items() if dim != "prefixes")
    return f"{describe_case(model)}, and prefixes {_prefixes(model_for(model), case)!r}"


GENERATED = MODEL_SPACE.only(
    describe=_described,
    hook=("none",), dropout=(False,), ties=(False,), outputs=("several",), batch=("several",), dtype=(torch.float32,),
    mode=("train", "mixed"), prefixes=("a-layer", "a-full-name", "the-body", "a-root-parameter",
                                        "the-tied-second-holder", "none"))


def _effective(case):
    """The case with the structure its prefixes need: a parameter of the model itself, or a tied weight."""
    if case.prefixes == "a-root-parameter" and not case.scalar_param:
        return case.replace(root_param=True)
    if case.prefixes == "the-tied-second-holder":
        return case.replace(tied=True)
    return case


def _prefixes(model, case):
    layers = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    return {
        "a-layer": [layers[0]],
        "a-full-name": [f"{layers[0]}.bias"],
        "the-body": ["body"],
        "a-root-parameter": ["scale" if model.scale is not None else "temperature"],
        "the-tied-second-holder": [layers[-1]],
        "none": [],
    }[case.prefixes]


def generated_input(case):
    model = model_for(_effective(case))
    return {"model": model, "prefixes": _prefixes(model, case)}


@oracle
def freeze_reference(model, prefixes):
    prefixes = list(prefixes)
    matched = sorted(name for name, _ in model.named_parameters()
                     if any(name == p or name.startswith(p + ".") for p in prefixes))
    params = dict(model.named_parameters())
    for name in matched:
        params[name].requires_grad_(False)
    return matched


def _names_off(diff):
    """The names the learner reported that the reference does not, and those it missed."""
    want = set(diff.again(freeze_reference))
    got = set(diff.result) if isinstance(diff.result, list) else set()
    return got - want, want - got


def _tied_second_name(diff):
    extra, _ = _names_off(diff)
    model = diff.args["model"]
    second = set(dict(model.named_parameters(remove_duplicate=False))) - set(dict(model.named_parameters()))
    return bool(extra & second)


def _root_missed(diff):
    _, missing = _names_off(diff)
    return any("." not in name for name in missing)


TIED_SECOND_NAME = Mistake(
    "ex09.tied_second_name", "a tied weight reported (and frozen) under its second module's name",
    "You reported a tied weight under the name of its second holder, a name `model.named_parameters()` never "
    "gives: one tensor held by two modules is one parameter, named after the first module, and "
    "`named_parameters(remove_duplicate=False)` lists it again under the second. That second name matches no "
    "prefix. Go through `model.named_parameters()`."
)
ROOT_MISSED = Mistake(
    "ex09.root_parameters_missed", "the model's own parameters missed (going through its children only)",
    "You missed a parameter of the model itself (a name without a dot, such as 'scale': held by the model, in "
    "no child module). Going through `model.children()` (or `named_children()`) never reaches those. Go "
    "through `model.named_parameters()`, which lists every parameter at every depth, the model's own included."
)


def test_matches_the_reference_on_generated_models(freeze_by_prefix):
    compare(freeze_by_prefix, freeze_reference, GENERATED, generated_input, fn_name="freeze_by_prefix",
            explanations=ERRORS, known=[(_tied_second_name, TIED_SECOND_NAME), (_root_missed, ROOT_MISSED)])
