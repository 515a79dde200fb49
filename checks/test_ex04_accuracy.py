"""Checks for ex04: accuracy(model, x, y) is a Python float computed without a graph, changing nothing."""

import copy

import pytest
import torch
from torch import nn

from checks.instruments import (
    FailsOnPurpose,
    Mistake,
    assert_left_alone,
    assert_restored_when_it_raises,
    count_saved_tensors,
    describe_args,
    expect_python_number,
    explain_errors,
    grad_mode_kept,
    oracle,
)
from checks.structures import MODEL_SPACE, compare, mode_changed, model_for

IN_FEATURES = 4

# id -> (rows, classes); 10x10 makes `argmax(dim=0)` run without an error (and give wrong answers)
CASES = {
    "7rows-3classes": (7, 3),
    "32rows-5classes": (32, 5),
    "10rows-10classes": (10, 10),
}

ERRORS = {
    r"mean\(\): could not infer output dtype.*Bool": Mistake(
        "ex04.mean_of_bool", "the mean of a boolean tensor (convert with .float() first)",
        "`(pred == y)` is a tensor of booleans, and a mean of booleans is not defined. Convert first, "
        "`(pred == y).float().mean()`, or count with `.sum()` and divide by the number of rows."
    ),
    r"must match the size of tensor b": Mistake(
        "ex04.argmax_dim0", "predictions taken along the wrong dimension (argmax(dim=0))",
        "the predictions and the labels don't line up: one prediction per row is `model(x).argmax(dim=1)` "
        "(dim=1 runs along the classes of each row); `argmax(dim=0)` gives the best row for each class instead."
    ),
    r"elements cannot be converted to Scalar": Mistake(
        "ex04.item_of_many", "`.item()` of a tensor with more than one element",
        "`.item()` only works on a tensor with one element: reduce first (`.sum()` to count the correct rows, "
        "or `.float().mean()` for the fraction), then call `.item()`."
    ),
}


@pytest.fixture
def accuracy(learner):
    return learner


def make_model(classes, kind="mlp", mode="train"):
    width = 8
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(IN_FEATURES, width), nn.Tanh(), nn.Linear(width, classes))
    else:  # batch-norm and dropout: layers whose behaviour depends on the mode
        model = nn.Sequential(
            nn.Linear(IN_FEATURES, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(0.3),
            nn.Linear(width, classes),
        )
        with torch.no_grad():  # running statistics that differ from the defaults
            for _ in range(3):
                model(torch.randn(16, IN_FEATURES) * 2 + 1)
    if mode == "eval":
        model.eval()
    elif mode == "mixed":  # the caller keeps some submodules in eval mode
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.Dropout)):
                module.eval()
    return model


def predictions(model, x):
    """The right prediction of each row: the index of its largest score (on a copy of the model)."""
    with torch.no_grad():
        return copy.deepcopy(model)(x).argmax(dim=1)


def make_data(model, rows, classes, correct=None):
    """x, and labels y such that exactly `correct` rows (random, neither none nor all by default) are right."""
    x = torch.randn(rows, IN_FEATURES)
    predicted = predictions(model, x)
    if correct is None:
        correct = int(torch.randint(1, rows, ()).item())
    right_rows = torch.randperm(rows)[:correct]
    wrong = (predicted + torch.randint(1, classes, (rows,))) % classes
    y = wrong.clone()
    y[right_rows] = predicted[right_rows]
    return x, y, correct


def call(accuracy, model, x, y):
    with explain_errors("accuracy", ERRORS, called_with=describe_args(model=model, x=x, y=y)):
        return accuracy(model, x, y)


def expect_float(value):
    return expect_python_number(value, "accuracy", float, int_hint=Mistake(
        "ex04.returns_an_int", "an int returned (integer division, or the count itself)",
        "An int comes from integer division (`correct // rows` is 0 unless every row is right) or from returning "
        "the count itself. Divide the number of correct rows by the number of rows with `/`."
    ))


def assert_accuracy(accuracy, model, x, y, correct):
    """accuracy(model, x, y) is the fraction `correct / rows`, or the message says what it is instead."""
    every_row_right = predictions(model, x)  # for telling integer division from wrong predictions
    value = expect_float(call(accuracy, model, x, y))
    rows = len(y)
    want = correct / rows
    if abs(value - want) <= 1e-6:
        return
    if value == correct // rows and correct % rows and _floors(accuracy, model, x, every_row_right):
        raise AssertionError(Mistake(
            "ex04.integer_division", "integer division `//` instead of `/`",
            f"accuracy returned {value} while {correct} of {rows} rows are predicted right (expected {want:.4f}): "
            "that is integer division, which drops everything after the point. Divide with `/`, not `//`."
        ))
    if abs(value - 100 * want) <= 1e-4 and want != 0:
        raise AssertionError(Mistake(
            "ex04.percentage", "a percentage instead of a fraction",
            f"accuracy returned {value:.4g} while {correct} of {rows} rows are predicted right: that is a percentage, "
            f"but the task asks for a fraction, not a percentage, between 0 and 1 ({want:.4f} here). Don't multiply by "
            "100: return the number of correct rows divided by the number of rows."
        ))
    if rows > 1 and abs(value - correct) <= 1e-6:
        raise AssertionError(Mistake(
            "ex04.count_not_fraction", "the count of correct rows instead of the fraction",
            f"accuracy returned {value}: the number of correct rows, not the fraction ({correct} of {rows} rows "
            f"are right, so {want:.4f} is expected). Divide by the number of rows."
        ))
    raise AssertionError(Mistake(
        "ex04.wrong_predictions", "predictions other than one argmax per row",
        f"accuracy returned {value:.4f}, but {correct} of {rows} rows are predicted right (expected {want:.4f}). "
        "The prediction of a row is `model(x).argmax(dim=1)`, the index of its largest score: one prediction "
        "per row. Compare it with `y` and take the fraction of rows that match."
    ))


def _floors(accuracy, model, x, every_row_right) -> bool:
    """Whether accuracy's 0 for a fraction between 0 and 1 comes from integer division, not from predictions
    that never match: where every row is right, integer division gives 1 as `/` does, and so must accuracy.
    (Predictions that match no label give 0 there too.)"""
    try:
        value = call(accuracy, model, x, every_row_right)
    except Exception:  # noqa: BLE001 - no answer, no diagnosis: the check's own message stands
        return False
    return type(value) in (int, float) and value == 1


@pytest.mark.parametrize("case", CASES)
def test_returns_a_python_float(accuracy, case):
    rows, classes = CASES[case]
    model = make_model(classes)
    x, y, _ = make_data(model, rows, classes)
    expect_float(call(accuracy, model, x, y))


@pytest.mark.parametrize("model_kind", ["mlp-train", "batchnorm-eval"])
@pytest.mark.parametrize("case", CASES)
def test_value_is_the_fraction_correct(accuracy, case, model_kind):
    rows, classes = CASES[case]
    kind, mode = model_kind.split("-")
    model = make_model(classes, kind, mode)
    x, y, correct = make_data(model, rows, classes)
    assert_accuracy(accuracy, model, x, y, correct)


@pytest.mark.parametrize("extreme", ["all-right", "all-wrong"])
@pytest.mark.parametrize("case", ["7rows-3classes", "32rows-5classes"])
def test_stays_between_0_and_1(accuracy, case, extreme):
    rows, classes = CASES[case]
    model = make_model(classes)
    x, y, correct = make_data(model, rows, classes, correct=rows if extreme == "all-right" else 0)
    assert_accuracy(accuracy, model, x, y, correct)


@pytest.mark.parametrize("x_tracks", [False, True], ids=["x-plain", "x-requires-grad"])
@pytest.mark.parametrize("kind", ["mlp", "batchnorm"])
def test_builds_no_graph(accuracy, kind, x_tracks):
    model = make_model(5, kind)
    x, y, _ = make_data(model, 12, 5)
    x.requires_grad_(x_tracks)
    with count_saved_tensors() as saved:
        call(accuracy, model, x, y)
    assert saved.count == 0, Mistake(
        "ex04.graph_built", "running the model without torch.no_grad()",
        f"accuracy built a graph: autograd saved {saved.count} tensor(s) for a backward pass while the model "
        "ran. `argmax`, `.item()` or a detach at the end come too late: the graph was already built and its "
        "memory spent. Run the model inside `with torch.no_grad():`."
    )


@pytest.mark.parametrize("caller", ["grad-enabled", "inside-no_grad"])
def test_grad_mode_unchanged(accuracy, caller):
    model = make_model(3)
    x, y, _ = make_data(model, 7, 3)
    with grad_mode_kept("accuracy", caller=caller):
        call(accuracy, model, x, y)


@pytest.mark.parametrize("mode", ["train", "eval", "mixed"])
def test_model_mode_unchanged(accuracy, mode):
    model = make_model(4, "batchnorm", mode)
    x, y, _ = make_data(model, 9, 4)
    assert_left_alone(model, lambda: call(accuracy, model, x, y), "modes", MODEL_MODE_CHANGED)


MODEL_MODE_CHANGED = Mistake(
    "ex04.model_mode_changed", "changing the train/eval mode of the caller's model",
    "accuracy changed the mode of the caller's model: {changes}. The caller may be in the middle of "
    "training: leave every module in the mode you found it. `torch.no_grad()` is what a metric needs, and it "
    "changes no mode. (If you switch to eval mode, restore each module's own flag afterwards, at every depth: "
    "`model.train()` puts every submodule in train mode, also those the caller had in eval mode, and a module "
    "nested deeper than `model.children()` keeps whatever mode its parent's `train(...)` gave it.)"
)


@pytest.mark.parametrize("flags", ["all-trainable", "partly-frozen"])
def test_requires_grad_flags_unchanged(accuracy, flags):
    model = make_model(3)
    if flags == "partly-frozen":
        model[0].requires_grad_(False)
    x, y, _ = make_data(model, 7, 3)
    assert_left_alone(model, lambda: call(accuracy, model, x, y), "flags", Mistake(
        "ex04.requires_grad_changed", "freezing or replacing the caller's parameters",
        "accuracy changed the caller's parameters: {changes}. Freezing the parameters is not the way "
        "to skip the graph: it changes the caller's model (and a graph is built anyway when `x` requires grad). "
        "Leave `requires_grad` alone and run the model inside `with torch.no_grad():`."
    ))


@pytest.mark.parametrize("grads", ["no-grads-yet", "grads-from-earlier-backward"])
def test_parameter_grads_unchanged(accuracy, grads):
    model = make_model(3)
    x, y, _ = make_data(model, 7, 3)
    if grads == "grads-from-earlier-backward":
        model(torch.randn_like(x)).pow(2).mean().backward()
    known = COMPUTES_GRADIENTS if grads == "no-grads-yet" else GRADS_CLEARED
    assert_left_alone(model, lambda: call(accuracy, model, x, y), "grads", known)


COMPUTES_GRADIENTS = Mistake(
    "ex04.computes_gradients", "calling backward() in a metric",
    "after accuracy, {changes}: a metric computes no gradients. Don't call backward() in "
    "accuracy; count the correct rows inside `with torch.no_grad():`."
)
GRADS_CLEARED = Mistake(
    "ex04.grads_cleared", "clearing or zeroing the caller's gradients",
    "accuracy changed gradients the caller had accumulated: {changes}. Clearing or zeroing "
    "gradients (`model.zero_grad()`) is the training loop's business; a metric computed in between must "
    "leave them alone."
)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_state_restored_when_model_raises(accuracy, mode):
    model = FailsOnPurpose(IN_FEATURES, 3).train(mode == "train")
    x, y = torch.randn(5, IN_FEATURES), torch.randint(0, 3, (5,))
    assert_restored_when_it_raises(model, lambda: call(accuracy, model, x, y), grad_mode=Mistake(
        "ex04.grad_mode_not_restored_on_error", "gradient tracking switched back by hand, not when the model raises",
        "when the model raised an error, accuracy left gradient tracking switched off for the caller: the line "
        "that switches it back never ran. `with torch.no_grad():` restores the previous mode when the block "
        "ends, also when an exception leaves it."
    ), changed=Mistake(
        "ex04.model_changed_on_error", "the model's modes or flags left changed when the model raises",
        "when the model raised an error, accuracy left the caller's model changed: {changes}. "
        "Restore what you change in a `finally:` block, or better change nothing: `with torch.no_grad():` "
        "is all a metric needs."
    ))


# --------------------------------------------------------------------------- against the reference, on generated models

def _values_kept_in_eval(case):
    """Batch norm and dropout only where the caller has them in eval mode: the contract lets accuracy switch
    to eval mode (and back), so their train-mode behaviour is not part of it."""
    return MODEL_SPACE.valid(case) and not ((case.norm != "none" or case.dropout) and case.mode == "train")


# classifiers of the structures the contract allows: depth, nesting, forward hooks, a parameter of the model
# itself, batch norm, dropout, frozen layers, modes (mixed too), dtypes, scores with ties, one row
GENERATED = MODEL_SPACE.only(valid=_values_kept_in_eval, layers=(1, 2), scalar_param=(False,), tied=(False,),
                             norm=("none", "batchnorm"), frozen=("none", "first-layer"), grads=(False,),
                             outputs=("several",), mode=("train", "eval", "mixed"))


def generated_input(case):
    model = model_for(case, IN_FEATURES, 5)  # 5 classes: `topk` breaks ties as argmax does for 3 or fewer
    rows = 1 if case.batch == "one" else 8
    x = torch.randn(rows, IN_FEATURES, dtype=case.dtype)
    with torch.no_grad():
        best = model(x).argmax(dim=1)
    y = torch.where(torch.arange(rows) % 2 == 0, best, torch.randint(0, 5, (rows,)))  # half the rows right
    return {"model": model, "x": x, "y": y}


@oracle
def accuracy_reference(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).sum().item() / y.shape[0]


def _recomputed(diff, fn) -> bool:
    """Whether the learner's value is what `fn` computes on a fresh copy of the input."""
    return diff.field == "the result's value" and isinstance(diff.mine, float) and abs(diff.again(fn) - diff.mine) < 1e-6


def _with_topk(model, x, y):
    with torch.no_grad():
        return (model(x).topk(1, dim=1).indices.squeeze(1) == y).sum().item() / y.shape[0]


def _without_hooks(model, x, y):
    with torch.no_grad():
        return (model.forward(x).argmax(dim=1) == y).sum().item() / y.shape[0]


TIES = Mistake(
    "ex04.ties_broken_another_way", "predictions whose ties are broken otherwise than by argmax (topk, sort)",
    "Where several classes share the largest score, your predictions pick another of them than "
    "`argmax(dim=1)`, which takes the first: your value is exactly what `topk(1, dim=1)` gives. `topk` and "
    "`sort` make no promise about the order of equal scores. Predict with `model(x).argmax(dim=1)`."
)
SKIPS_HOOKS = Mistake(
    "ex04.forward_skips_hooks", "calling model.forward(x), which skips the model's hooks",
    "The reference's scores pass through the hook and yours do not: your value is exactly what "
    "`model.forward(x)` gives. `model.forward(x)` runs only the forward method; calling the model, `model(x)`, "
    "also runs the hooks registered on it (and on its layers). Call `model(x)`."
)


def _mode_changed(diff):
    return diff.field.startswith("the mode of")


def test_matches_the_reference_on_generated_models(accuracy):
    compare(accuracy, accuracy_reference, GENERATED, generated_input, fn_name="accuracy", explanations=ERRORS, known=[
        (lambda diff: diff.case.ties and _recomputed(diff, _with_topk), TIES),
        (lambda diff: diff.case.hook != "none" and _recomputed(diff, _without_hooks), SKIPS_HOOKS),
        (_mode_changed, lambda diff: MODEL_MODE_CHANGED.says(changes=mode_changed(diff))),
    ])
