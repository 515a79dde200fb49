"""The models and cases of ex12's checks, and the helpers that call `freeze_batchnorm` and say which
batch-norm layers it missed or which other module it took for one (checks/test_ex12_freeze_batchnorm.py
holds the checks)."""

from __future__ import annotations

import torch
from torch import nn

from checks.instruments import Mistake, describe_args, explain_errors, random_size

ERRORS = {
    r"uninitialized parameter": Mistake(
        "ex12.requires_grad_on_lazy", "requires_grad_() on a lazy layer's placeholder parameters",
        "The model has a lazy batch-norm layer (such as `nn.LazyBatchNorm1d()`) that has not run yet: its "
        "parameters are placeholders (`UninitializedParameter`), and `requires_grad_()` refuses them. Set the "
        "attribute instead, on each parameter of the layer: `p.requires_grad = False`. That works on placeholders "
        "and real parameters alike, and the flag survives the first forward pass."
    ),
    r"'NoneType' object has no attribute '(requires_grad|requires_grad_)'": Mistake(
        "ex12.weight_and_bias_by_name", "`weight` and `bias` named, which a layer with affine=False lacks",
        "A batch-norm layer built with `affine=False` has no learnable scale and shift: its `weight` and `bias` "
        "are None, not parameters. Don't name them: go through the parameters the layer really has, "
        "`for p in m.parameters(): p.requires_grad = False` (none at all for such a layer), and still put the "
        "layer in eval mode, since its running statistics move all the same."
    ),
}

ISINSTANCE = "`isinstance(m, torch.nn.modules.batchnorm._BatchNorm)`"


# --------------------------------------------------------------------------- models


class ConvBatchNormBlock(nn.Module):
    """A container (NOT a batch-norm layer) whose class name contains "BatchNorm"."""

    def __init__(self, c, affine=True):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c, affine=affine)
        self.drop = nn.Dropout2d(0.5)

    def forward(self, x):
        return self.drop(torch.relu(self.bn(self.conv(x))))


class ScaledBatchNorm3d(nn.BatchNorm3d):
    """A batch-norm layer someone wrote: a subclass of nn.BatchNorm3d."""

    def forward(self, x):
        return 2.0 * super().forward(x)


class CNN2d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.block1 = ConvBatchNormBlock(c)
        self.block2 = ConvBatchNormBlock(c, affine=False)
        self.norm = nn.GroupNorm(1, c)
        self.head = nn.Linear(c, 2)

    def forward(self, x):
        h = self.norm(self.block2(self.block1(self.stem(x))))
        return self.head(h.mean(dim=(2, 3)))


class MLPSync(nn.Module):
    def __init__(self, n_in, h):
        super().__init__()
        self.fc1 = nn.Linear(n_in, h)
        self.bn1 = nn.BatchNorm1d(h)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(h, h)
        self.sync = nn.SyncBatchNorm(h)
        self.ln = nn.LayerNorm(h)
        self.fc3 = nn.Linear(h, h)
        self.bn_batch_stats = nn.BatchNorm1d(h, track_running_stats=False)
        self.out = nn.Linear(h, 1)

    def forward(self, x):
        h = self.drop(torch.relu(self.bn1(self.fc1(x))))
        h = self.ln(torch.relu(self.sync(self.fc2(h))))
        return self.out(self.bn_batch_stats(self.fc3(h)))


class Net3d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv3d(2, c, 3, padding=1)
        self.bn = nn.BatchNorm3d(c)
        self.inorm = nn.InstanceNorm3d(c, affine=True, track_running_stats=True)
        self.drop = nn.Dropout3d(0.5)
        self.scaled = ScaledBatchNorm3d(c)
        self.head = nn.Linear(c, 1)

    def forward(self, x):
        h = self.drop(self.inorm(torch.relu(self.bn(self.conv(x)))))
        return self.head(self.scaled(h).mean(dim=(2, 3, 4)))


class SharedNorm(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.fc1 = nn.Linear(3, h)
        self.fc2 = nn.Linear(h, h)
        self.norm = nn.BatchNorm1d(h)
        self.norm_again = self.norm  # the same layer registered twice: one layer
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        return self.norm_again(self.fc2(self.drop(torch.relu(self.norm(self.fc1(x))))))


class LazyMLP(nn.Module):
    def __init__(self, n_in, h):
        super().__init__()
        self.fc = nn.Linear(n_in, h)
        self.bn = nn.LazyBatchNorm1d()
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(h, 1)

    def forward(self, x):
        return self.out(self.drop(self.bn(self.fc(x))))


# id -> (what it is in words, builder returning (model, input batch, names of its batch-norm layers))
def _cnn2d():
    c = random_size(3, 6)
    return CNN2d(c), torch.randn(4, 3, 5, 5), ["block1.bn", "block2.bn"]


def _mlp_sync():
    n_in, h = random_size(3, 6), random_size(3, 6)
    return MLPSync(n_in, h), torch.randn(6, n_in), ["bn1", "sync", "bn_batch_stats"]


def _net3d():
    c = random_size(2, 4)
    return Net3d(c), torch.randn(2, 2, 3, 4, 4), ["bn", "scaled"]


def _shared():
    h = random_size(3, 6)
    return SharedNorm(h), torch.randn(5, 3), ["norm"]


def _nested():
    h = random_size(3, 6)
    model = nn.Sequential(
        nn.Linear(3, h), nn.BatchNorm1d(h), nn.ReLU(),
        nn.Sequential(nn.Linear(h, h), nn.Sequential(nn.BatchNorm1d(h), nn.Dropout(0.2), nn.Sequential(
            nn.Linear(h, h), nn.BatchNorm1d(h, affine=False)))),
        nn.Dropout(0.2), nn.Linear(h, 1))
    return model, torch.randn(5, 3), ["1", "3.1.0", "3.1.2.1"]


def _bare():
    h = random_size(3, 6)
    return nn.BatchNorm1d(h), torch.randn(5, h), [""]


CASES = {
    "cnn-BatchNorm2d-affine-False": (
        "a CNN with blocks of class ConvBatchNormBlock (Conv2d, BatchNorm2d, Dropout2d), one of them with "
        "affine=False, and a GroupNorm", _cnn2d),
    "mlp-SyncBatchNorm-LayerNorm": (
        "an MLP with BatchNorm1d, Dropout, SyncBatchNorm, LayerNorm and a BatchNorm1d without running "
        "statistics", _mlp_sync),
    "3d-custom-subclass-InstanceNorm": (
        "a 3d CNN with BatchNorm3d, InstanceNorm3d, Dropout3d and ScaledBatchNorm3d (a subclass of "
        "nn.BatchNorm3d)", _net3d),
    "shared-layer": ("an MLP that uses one BatchNorm1d layer in two places", _shared),
    "model-is-BatchNorm1d": ("a model that is itself an nn.BatchNorm1d layer", _bare),
    "nested-four-levels": ("an nn.Sequential with a BatchNorm1d of its own and two more nested three and four "
                           "levels deep (the deepest with affine=False)", _nested),
}

STATS_CASES = [c for c in CASES if c not in ("shared-layer",)]  # every case but one, to stay fast


def make_model(case):
    """A model in train mode with random weights and running statistics, some non-batch-norm parameters frozen, and one dropout already in eval mode (a caller's choice to keep)."""
    words, build = CASES[case]
    model, x, bn_names = build()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.5 + (1.0 if p.dim() == 1 and p.numel() > 0 else 0.0))
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._NormBase) and m.running_mean is not None:
                m.running_mean.copy_(torch.randn_like(m.running_mean))
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 50, ())))
    bn_ids = {id(p) for name in bn_names for p in model.get_submodule(name).parameters()}
    others = [p for p in model.parameters() if id(p) not in bn_ids]
    for p in others:
        if torch.rand(()) < 0.3:
            p.requires_grad_(False)
    dropouts = [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]
    if len(dropouts) > 1:
        dropouts[-1].eval()
    return model, x, bn_names, words


# --------------------------------------------------------------------------- helpers


def call(freeze_batchnorm, model):
    with explain_errors("freeze_batchnorm", ERRORS, called_with=describe_args(model=model)):
        return freeze_batchnorm(model)


def _label(model, name):
    return _label_plain(name, model.get_submodule(name))


def _treated(layer):
    """Did the learner do anything to this batch-norm layer (mode or flags)?"""
    return not layer.training or any(not p.requires_grad for p in layer.parameters())


MISSES_LAYERS = Mistake(
    "ex12.misses_layers", "batch-norm layers not recognized",
    "in {words}, layer {layer} was not treated as a batch-norm layer: it is still in train mode with trainable "
    "parameters. Go through `model.modules()` (every module at any depth, the model itself included) and treat "
    f"every module for which {ISINSTANCE} holds. Possible causes: a list of classes or a test of class names that "
    "leaves its class out (BatchNorm1d/2d/3d, SyncBatchNorm, the lazy ones and subclasses all derive from that "
    "one base class), or a loop that does not reach it."
)
CHILDREN_ONLY = Mistake(
    "ex12.children_only", "only the model's direct children gone through (nested layers missed)",
    "in {words}, layer {layer} was not treated as a batch-norm layer, while the batch-norm layers directly in the "
    "model were: it sits inside `{parent}`, and `model.children()` gives only the direct children. "
    "`model.modules()` gives every module at any depth (the model itself included)."
)
PARAMETERLESS_SKIPPED = Mistake(
    "ex12.parameterless_layer_skipped", "a batch-norm layer without parameters (affine=False) skipped",
    "in {words}, layer {layer} was left in train mode, while the batch-norm layers with parameters were frozen and "
    "put in eval mode. It was built with `affine=False`: it has no weight and bias, but it is a batch-norm layer "
    "all the same, and in train mode its running statistics move. Skip nothing for having no parameters (or "
    "`affine=False`): put every batch-norm layer in eval mode, and freeze whatever parameters it has."
)


def missed_layers(model, bn_names):
    """The batch-norm layers the learner did nothing to, and the message that fits what was seen: only nested
    ones missed while direct children were treated, only layers without parameters missed, or else the
    possible causes."""
    layers = {name: model.get_submodule(name) for name in bn_names}
    # a layer without parameters (affine=False) left in train mode looks untouched; if other layers were frozen
    # and left in train mode too, the mistake is the missing eval(), which the eval-mode check reports
    forgot_eval = any(m.training and any(not p.requires_grad for p in m.parameters()) for m in layers.values())
    missed = [n for n, m in layers.items() if not _treated(m) and not (forgot_eval and not list(m.parameters()))]
    treated = [n for n in bn_names if _treated(layers[n])]
    if not missed:
        return [], None
    first = missed[0]
    detail = dict(words="{words}", layer=_label(model, first), parent=first.rpartition(".")[0])
    if treated and all("." in n for n in missed) and all("." not in n for n in treated):
        return missed, CHILDREN_ONLY.says(**detail)
    if treated and all(not list(layers[n].parameters()) for n in missed) and all(
            not layers[n].training for n in treated):
        return missed, PARAMETERLESS_SKIPPED.says(**detail)
    return missed, MISSES_LAYERS.says(**detail)


def assert_every_layer_found(model, bn_names, words):
    """The one message for a batch-norm layer the learner's code did not treat."""
    missed, message = missed_layers(model, bn_names)
    assert not missed, message.says(words=words)


def _not_batchnorm_message(module, words, name):
    return Mistake(
        "ex12.not_batchnorm_changed", "another module taken for batch norm (a class name, another normalization)",
        f"in {words}, module {_label_plain(name, module)} is not a batch-norm layer, yet freeze_batchnorm changed "
        "it. Only instances of `torch.nn.modules.batchnorm._BatchNorm` are batch norm: a class name containing "
        "'BatchNorm' can be a container of other layers, and LayerNorm, GroupNorm and InstanceNorm are other "
        f"normalizations. Test {ISINSTANCE}."
    )


def _capitalized(text):
    return text[:1].upper() + text[1:]


def _label_plain(name, module):
    return f"`{name}` ({type(module).__name__})" if name else f"the model itself ({type(module).__name__})"


def _looks_like_norm(module):
    return "BatchNorm" in type(module).__name__ or isinstance(module, nn.modules.batchnorm._NormBase)


def frozen_norms(freeze_batchnorm, case):
    """A case's model, input batch, batch-norm layers and words, after freeze_batchnorm(model) treated every
    batch-norm layer (or the message for one it did not recognize)."""
    model, x, bn_names, words = make_model(case)
    call(freeze_batchnorm, model)
    assert_every_layer_found(model, bn_names, words)
    return model, x, bn_names, words
