"""Checks for ex12: freeze_batchnorm(model) freezes and evals every batch-norm layer (any subclass of
_BatchNorm, lazy ones included), leaves every other module and parameter alone, and returns how many
batch-norm layers there are."""

import pytest
import torch
from torch import nn

from checks.instruments import Mistake, expect_python_number, oracle
from checks.structures import MODEL_SPACE, compare, model_for
from checks.support_ex12_freeze_batchnorm import (CASES, ISINSTANCE, MISSES_LAYERS, STATS_CASES, LazyMLP,
                                                 _capitalized, _label, _label_plain, _looks_like_norm,
                                                 _not_batchnorm_message, _treated, assert_every_layer_found,
                                                 call, frozen_norms, make_model, missed_layers)


@pytest.fixture
def freeze_batchnorm(learner):
    return learner


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize("case", CASES)
def test_returns_number_of_batchnorm_layers(freeze_batchnorm, case):
    model, _, bn_names, words = make_model(case)
    count = expect_python_number(call(freeze_batchnorm, model), "freeze_batchnorm", int,
                                 "the number of batch-norm layers")
    missed = [_label(model, n) for n in bn_names if not _treated(model.get_submodule(n))]
    _, why_missed = missed_layers(model, bn_names)
    if count > len(bn_names):
        for name, module in model.named_modules():
            treated = not module.training or any(not p.requires_grad for p in module.parameters(recurse=False))
            if name not in bn_names and _looks_like_norm(module) and treated:
                raise AssertionError(_not_batchnorm_message(module, words, name))
    if count > len(bn_names):
        known = Mistake("ex12.counts_shared_twice", "a batch-norm layer used in two places counted twice", "")
    elif missed and why_missed is not None and why_missed.mistake_id != MISSES_LAYERS.mistake_id:
        known = why_missed
    elif missed:
        known = Mistake(
            "ex12.count_misses_layers", "batch-norm layers missed in the count (not recognized, nested)",
            "")
    else:
        known = Mistake("ex12.wrong_count", "a count other than the number of batch-norm layers", "")
    assert count == len(bn_names), known.reworded(
        f"freeze_batchnorm returned {count} for {words}, which has {len(bn_names)} batch-norm layer(s): "
        + ", ".join(_label(model, n) for n in bn_names) + ". "
        + (f"Not treated as batch norm: {', '.join(missed)}. " if missed else "")
        + (_capitalized(why_missed.says(words=words)) + " " if missed and why_missed is not None else "")
        + ("A layer used in two places is one layer: go through `model.modules()`, which gives each module once, "
           "and count the batch-norm layers."
           if count > len(bn_names) else "Count every batch-norm layer, at any depth, the model itself included.")
    )


@pytest.mark.parametrize("case", CASES)
def test_batchnorm_layers_are_in_eval_mode(freeze_batchnorm, case):
    model, _, bn_names, words = frozen_norms(freeze_batchnorm, case)
    for name in bn_names:
        assert not model.get_submodule(name).training, Mistake(
            "ex12.not_in_eval_mode", "batch-norm layers frozen but left in train mode",
            f"in {words}, layer {_label(model, name)} is still in train mode after freeze_batchnorm. Freezing "
            "stops gradients, not the running statistics: in train mode batch norm normalizes with the statistics "
            "of each batch and overwrites its running mean and variance at every forward pass. Call `.eval()` on "
            "each batch-norm layer (not on the whole model)."
        )


@pytest.mark.parametrize("case", CASES)
def test_batchnorm_parameters_are_frozen(freeze_batchnorm, case):
    model, _, bn_names, words = frozen_norms(freeze_batchnorm, case)
    for name in bn_names:
        for pname, p in model.get_submodule(name).named_parameters():
            assert not p.requires_grad, Mistake(
                "ex12.eval_without_freezing", "batch-norm layers put in eval mode, their parameters left trainable",
                f"in {words}, parameter `{pname}` of layer {_label(model, name)} still requires grad after "
                "freeze_batchnorm, so the optimizer still trains it. `.eval()` changes the layer's mode (which "
                "statistics it uses), not its parameters' flags: also set `p.requires_grad = False` for each of the "
                "layer's parameters."
            )


@pytest.mark.parametrize("case", STATS_CASES)
def test_running_statistics_stay_fixed_in_train_mode(freeze_batchnorm, case):
    model, x, bn_names, words = frozen_norms(freeze_batchnorm, case)
    tracked = [n for n in bn_names if model.get_submodule(n).running_mean is not None]
    before = {n: [b.clone() for b in model.get_submodule(n).buffers()] for n in tracked}
    model(x)  # the caller's training loop: the model as a whole was left in train mode
    for name in tracked:
        now = list(model.get_submodule(name).buffers())
        assert all(torch.equal(a, b) for a, b in zip(before[name], now)), Mistake(
            "ex12.statistics_move", "running statistics that still move (a batch-norm layer left in train mode)",
            f"in {words}, the running statistics of layer {_label(model, name)} changed during a forward pass "
            "after freeze_batchnorm: the layer is still in train mode, so it keeps replacing the statistics it "
            "learned with those of the current batch (frozen parameters don't stop that: no gradient is "
            "involved). Put each batch-norm layer in eval mode with `layer.eval()`."
        )


@pytest.mark.parametrize("case", CASES)
def test_other_modules_keep_their_mode(freeze_batchnorm, case):
    model, _, bn_names, words = make_model(case)
    modes = {name: m.training for name, m in model.named_modules()}
    call(freeze_batchnorm, model)
    changed = [(name, m) for name, m in model.named_modules() if name not in bn_names and m.training != modes[name]]
    if not any(name == "" for name, _ in changed):  # the model's own mode kept: a layer mistaken for batch norm?
        for name, module in changed:
            if _looks_like_norm(module):
                raise AssertionError(_not_batchnorm_message(module, words, name))
    for name, module in changed:
        if isinstance(module, nn.modules.dropout._DropoutNd) and not module.training:
            raise AssertionError(Mistake(
                "ex12.model_eval", "model.eval(), which switches dropout and every other module too",
                f"in {words}, dropout module {_label_plain(name, module)} was switched to eval mode: it no longer "
                "drops anything, and the network trains without the regularization it was designed with. "
                "`model.eval()` switches every module; call `.eval()` on each batch-norm layer only."
            ))
    for name, module in changed:
        was = "train" if modes[name] else "eval"
        now = "train" if module.training else "eval"
        raise AssertionError(Mistake(
            "ex12.other_modes_changed", "the mode of modules other than batch norm changed",
            f"in {words}, module {_label_plain(name, module)} was in {was} mode and is now in {now} mode: only the "
            "batch-norm layers may change mode; every other module keeps the mode the caller chose. Don't call "
            "`model.train()` or `model.eval()`: call `.eval()` on each batch-norm layer."
        ))


@pytest.mark.parametrize("case", CASES)
def test_other_parameters_keep_their_flags(freeze_batchnorm, case):
    model, _, bn_names, words = make_model(case)
    bn_ids = {id(p) for n in bn_names for p in model.get_submodule(n).parameters()}
    flags = {name: (p, p.requires_grad) for name, p in model.named_parameters() if id(p) not in bn_ids}
    call(freeze_batchnorm, model)
    now = dict(model.named_parameters())
    for name, (p, was) in flags.items():
        assert now.get(name) is p, Mistake(
            "ex12.replaces_parameters", "parameters replaced by new objects",
            f"in {words}, parameter `{name}` was replaced by a different object: change flags and modes in place, "
            "don't rebuild layers (the optimizer and the caller hold the original parameters)."
        )
        if p.requires_grad == was:
            continue
        owner_name = name.rpartition(".")[0]
        owner_chain = [owner_name.rsplit(".", k)[0] for k in range(owner_name.count(".") + 1)] if owner_name else []
        for prefix in owner_chain + [""]:
            module = model.get_submodule(prefix)
            if _looks_like_norm(module) and prefix not in bn_names:
                raise AssertionError(_not_batchnorm_message(module, words, prefix))
        raise AssertionError(Mistake(
            "ex12.other_flags_changed", "flags of parameters outside batch norm changed",
            f"in {words}, parameter `{name}` (not in a batch-norm layer) had requires_grad={was} and now has "
            f"requires_grad={p.requires_grad}: freeze only the batch-norm layers' parameters and leave every other "
            "flag as the caller set it (frozen stays frozen, trainable stays trainable)."
        ))


@pytest.mark.parametrize("width", [3, 5])
def test_lazy_layers_stay_frozen_after_first_forward(freeze_batchnorm, width):
    model = LazyMLP(4, width)
    words = "an MLP with an nn.LazyBatchNorm1d that has not run yet"
    count = expect_python_number(call(freeze_batchnorm, model), "freeze_batchnorm", int,
                                 "the number of batch-norm layers")
    assert_every_layer_found(model, ["bn"], words)
    assert count == 1, Mistake(
        "ex12.lazy_not_counted", "a lazy batch-norm layer not counted",
        f"freeze_batchnorm returned {count} for {words} (one batch-norm layer). A lazy layer is an instance of "
        f"`_BatchNorm` too: test {ISINSTANCE}."
    )
    assert not model.bn.training, Mistake(
        "ex12.lazy_not_in_eval_mode", "a lazy batch-norm layer left in train mode",
        f"in {words}, the lazy layer was not put in eval mode: call `.eval()` on it like on any batch-norm layer."
    )
    model(torch.randn(6, 4))  # first forward: the placeholders become real parameters of size `width`
    for pname, p in model.bn.named_parameters():
        assert not p.requires_grad, Mistake(
            "ex12.lazy_not_frozen", "a lazy layer's parameters not frozen (the flag lost at the first forward)",
            f"in {words}, after the first forward pass the layer's `{pname}` requires grad: the lazy layer's "
            "parameters were not frozen. Set `p.requires_grad = False` on each of its parameters; the flag "
            "survives the first forward pass."
        )
    assert int(model.bn.num_batches_tracked) == 0, Mistake(
        "ex12.lazy_statistics_move", "a lazy layer's running statistics moving at its first forward",
        f"in {words}, the first forward pass updated the running statistics: put the lazy layer in eval mode."
    )


# --------------------------------------------------------------------------- generated structures


GENERATED = MODEL_SPACE.only(layers=(2,), hook=("none",), scalar_param=(False,), tied=(False,),
                             dtype=(torch.float32,), grads=(False,), ties=(False,), outputs=("several",),
                             batch=("several",))


@oracle
def reference_freeze_batchnorm(model):
    count = 0
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            for param in module.parameters():
                param.requires_grad = False
            module.eval()
            count += 1
    return count


def test_agrees_with_the_reference_on_generated_structures(freeze_batchnorm):
    compare(freeze_batchnorm, reference_freeze_batchnorm, GENERATED, lambda case: {"model": model_for(case)},
            fn_name="freeze_batchnorm", extra=1)
