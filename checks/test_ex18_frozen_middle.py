"""Checks for ex18: forward_frozen_middle(first, middle, last, x) freezes middle's parameters (for good) and
returns last(middle(first(x))) with the graph intact: first and last get gradients, middle none."""

import copy

import pytest
import torch
from torch import nn

from checks.instruments import (
    Mistake,
    assert_left_alone,
    changes,
    describe_args,
    expect_tensor,
    explain_errors,
    grad_mode_kept,
    listed,
    oracle,
    reaches,
    snapshot,
)
from checks.structures import MODEL_SPACE, batch_for, compare, gradients_seen, model_for

# id -> (input size, width, output size, kind of middle, batch size, dtype); weights and x are random per check
CASES = {
    "linear-middle": (3, 6, 2, "linear", 5, torch.float32),
    "deep-middle-with-layernorm": (4, 5, 3, "deep", 4, torch.float32),
    "linear-middle-f64": (2, 4, 2, "linear", 3, torch.float64),
    "leaf-nn.Linear-middle": (3, 4, 2, "leaf", 4, torch.float32),
    "nested-middle-with-own-scale": (3, 5, 2, "own", 4, torch.float32),
}
MIDDLES = {
    "linear": "an nn.Sequential(Linear, Tanh)",
    "deep": "an nn.Sequential(Linear, Tanh, Linear, LayerNorm)",
    "leaf": "a single nn.Linear (a leaf module: no children, parameters of its own)",
    "own": "a module with a 0-dim scale of its own around layers nested three levels deep",
}


class Scaled(nn.Module):
    """A middle holding a 0-dim parameter of its own (which none of its children holds) around nested layers."""

    def __init__(self, width: int):
        super().__init__()
        self.scale = nn.Parameter(torch.rand(()) + 0.5)
        self.body = nn.Sequential(nn.Sequential(nn.Linear(width, width), nn.Sequential(nn.Tanh())))

    def forward(self, x):
        return self.body(x) * self.scale

ERRORS = {
    r"element 0 of tensors does not require grad and does not have a grad_fn": Mistake(
        "ex18.output_without_history", "an output without history (everything under no_grad, or detached)",
        "The output forward_frozen_middle returned has no history (requires_grad=False), so backward has nothing to "
        "walk back through and neither `first` nor `last` learns. Nothing may run under `torch.no_grad()` and "
        "nothing may be detached here: freeze middle's parameters (`requires_grad_(False)`) and compute "
        "`last(middle(first(x)))` with tracking on."
    ),
    r"object has no attribute '(weight|bias)'": Mistake(
        "ex18.container_weight", "middle.weight named, which a container of layers does not have",
        "`middle` is a container of layers (an nn.Sequential here): the weights belong to its layers, and it has "
        "no `.weight` of its own. Freeze every parameter it holds, at any depth, whatever the layers are: "
        "`middle.requires_grad_(False)`, or `p.requires_grad_(False)` for each p in `middle.parameters()`."
    ),
}

CUT = Mistake(
    "ex18.graph_cut", "the graph cut at middle (no_grad or detach) instead of middle frozen",
    "the graph is cut at `middle`, not just `middle` frozen: its output has no link back to its input, so no "
    "gradient gets through it to `first`. That is what running middle under `torch.no_grad()` or `.detach()`ing "
    "its output does. Freezing is something else: set `requires_grad_(False)` on middle's parameters and run "
    "middle normally; autograd then computes no gradient for those parameters but still passes the gradient "
    "through middle to `first`."
)


@pytest.fixture
def forward_frozen_middle(learner):
    return learner


class Setup:
    """Three modules, an input, and the reference output and gradients of one case."""

    def __init__(self, case="linear-middle"):
        n_in, width, n_out, kind, batch, dtype = CASES[case]
        self.first = nn.Sequential(nn.Linear(n_in, width), nn.Tanh()).to(dtype)
        self.kind = kind
        if kind == "linear":
            self.middle = nn.Sequential(nn.Linear(width, width), nn.Tanh()).to(dtype)
        elif kind == "leaf":
            self.middle = nn.Linear(width, width).to(dtype)
        elif kind == "own":
            self.middle = Scaled(width).to(dtype)
        else:
            self.middle = nn.Sequential(
                nn.Linear(width, width + 2), nn.Tanh(), nn.Linear(width + 2, width), nn.LayerNorm(width)
            ).to(dtype)
        self.last = nn.Linear(width, n_out).to(dtype)
        with torch.no_grad():  # a layer norm with weights of its own, not the default ones and zeros
            for p in self.middle.parameters():
                p.add_(0.1 * torch.randn_like(p))
        self.x = torch.randn(batch, n_in, dtype=dtype)
        self.refresh()

    def refresh(self):
        """The output and the gradients of first and last, on copies, with middle frozen by hand."""
        first, middle, last = (copy.deepcopy(m) for m in (self.first, self.middle, self.last))
        middle.requires_grad_(False)
        for p in [*first.parameters(), *last.parameters()]:
            p.grad = None
        with torch.enable_grad():
            out = last(middle(first(self.x)))
            out.sum().backward()
        self.want = out.detach()
        self.want_grads = {
            f"{owner}.{n}": p.grad
            for owner, module in (("first", first), ("last", last))
            for n, p in module.named_parameters()
            if p.requires_grad
        }

    def params(self, owner):
        return {f"{owner}.{n}": p for n, p in getattr(self, owner).named_parameters()}


def call(fn, s):
    arguments = describe_args(first=s.first, middle=s.middle, last=s.last, x=s.x)
    with explain_errors("forward_frozen_middle", ERRORS, called_with=arguments):
        out = fn(s.first, s.middle, s.last, s.x)
    return expect_tensor(out, "forward_frozen_middle")


def assert_output(out, s):
    """Shape and values of last(middle(first(x))), or one message for every check."""
    assert tuple(out.shape) == tuple(s.want.shape), Mistake(
        "ex18.wrong_shape", "an output of another shape than last(middle(first(x)))",
        f"forward_frozen_middle returned a tensor of shape {tuple(out.shape)}; last(middle(first(x))) has shape "
        f"{tuple(s.want.shape)}. Return the output of the three modules applied in turn."
    )
    if not torch.allclose(out.detach().double(), s.want.double(), rtol=1e-5, atol=1e-6):
        diff = (out.detach().double() - s.want.double()).abs().max().item()
        raise AssertionError(Mistake(
            "ex18.wrong_values", "values other than last(middle(first(x))) (a module skipped or applied twice)",
            f"forward_frozen_middle returned values different from last(middle(first(x))) (largest difference "
            f"{diff:.3g}). Freezing changes no value: apply first, then middle, then last, each exactly once. "
            "Possible causes: a module skipped or applied twice, or a lower precision (autocast) than the modules' "
            "own dtype."
        ))


def graph_is_cut(out, s):
    """True when nothing of `first` that is trainable can be reached from the output any more."""
    trainable = [p for p in s.first.parameters() if p.requires_grad]
    return bool(trainable) and not any(reaches(out, p) for p in trainable)


def backward(out):
    with explain_errors("out.sum().backward() on the output of forward_frozen_middle", ERRORS):
        out.sum().backward()


# --------------------------------------------------------------------------- the output


@pytest.mark.parametrize("case", CASES)
def test_same_values(forward_frozen_middle, case):
    s = Setup(case)
    out = call(forward_frozen_middle, s)
    assert_output(out, s)


# --------------------------------------------------------------------------- middle


class MiddleRuns:
    """Records every forward of `middle`: whether it ran itself or a copy of it (`copy.deepcopy` copies the hook,
    a plain function, which then sees the copy), and how many of middle's own parameters were trainable then."""

    def __init__(self, middle):
        self.itself, self.copies, self.trainable_then = 0, 0, []

        def record(module, args, output):
            if module is middle:
                self.itself += 1
                self.trainable_then.append(sum(p.requires_grad for p in middle.parameters()))
            else:
                self.copies += 1

        self.handle = middle.register_forward_hook(record)


@pytest.mark.parametrize("middle", ["middle-trainable", "middle-partly-frozen", "leaf-nn.Linear-middle",
                                    "nested-middle-with-own-scale"])
def test_middle_is_frozen(forward_frozen_middle, middle):
    s = Setup(middle if middle in CASES else "deep-middle-with-layernorm")
    if middle == "middle-partly-frozen":
        s.middle[0].weight.requires_grad_(False)
    runs = MiddleRuns(s.middle)
    try:
        out = call(forward_frozen_middle, s)
    finally:
        runs.handle.remove()
    assert_output(out, s)
    trainable = [n for n, p in s.params("middle").items() if p.requires_grad]
    if not trainable:
        return
    if runs.copies and not runs.itself:
        raise AssertionError(Mistake(
            "ex18.froze_a_copy", "a copy of middle frozen and run, middle itself left trainable",
            f"forward_frozen_middle ran a copy of middle (`copy.deepcopy(middle)`?), not middle itself, and middle's "
            f"own parameters {', '.join(trainable[:4])} still require grad. Freezing a copy leaves the caller's "
            "middle trainable: the caller's optimizer goes on training it, and the output does not come from the "
            "caller's modules. Freeze the parameters of middle itself and run it: "
            "`middle.requires_grad_(False)`, then `last(middle(first(x)))`."
        ))
    own = {f"middle.{n}" for n, p in s.middle.named_parameters(recurse=False)}
    below = [n for n in s.params("middle") if n not in own]
    if own and below and set(trainable) <= own and not any(s.params("middle")[n].requires_grad for n in below):
        raise AssertionError(Mistake(
            "ex18.children_only", "only middle's children frozen, not the parameters middle holds itself",
            f"with middle {MIDDLES[s.kind]}, its parameters {', '.join(trainable[:4])} still require grad after "
            "forward_frozen_middle, while the parameters of its children were frozen: these are held by middle "
            "itself, not by any of its children, and `middle.children()` never reaches them. "
            "`middle.parameters()` gives every parameter at any depth, middle's own included; or call "
            "`middle.requires_grad_(False)`."
        ))
    if graph_is_cut(out, s):
        raise AssertionError(CUT.reworded(
            f"after forward_frozen_middle, middle's parameters {', '.join(trainable[:4])} still require grad, and "
            f"{CUT}"
        ))
    if runs.itself and not any(runs.trainable_then):
        raise AssertionError(Mistake(
            "ex18.restores_flags", "middle frozen only while the output is computed",
            f"middle's parameters {', '.join(trainable[:4])} were frozen while the output was computed, but are "
            "trainable again after the call. Freezing middle is this function's job, and it lasts: the caller's "
            "optimizer and later forward passes must find middle frozen. Don't switch `requires_grad` back on."
        ))
    raise AssertionError(Mistake(
        "ex18.not_frozen", "middle not frozen",
        f"with middle {MIDDLES[s.kind]}, its parameters {', '.join(trainable[:4])} still require grad after "
        "forward_frozen_middle: middle is not frozen. Set `requires_grad_(False)` on each of middle's parameters "
        "(or call `middle.requires_grad_(False)`) before running it."
        + (" Possible cause: a loop over `middle.children()`, which finds nothing in a leaf module (its parameters "
           "are its own); `middle.parameters()` gives them." if s.kind == "leaf" else "")
    ))


@pytest.mark.parametrize("middle", ["middle-trainable", "middle-partly-frozen", "middle-has-old-grads"])
def test_middle_gets_no_gradients(forward_frozen_middle, middle):
    s = Setup("deep-middle-with-layernorm")
    if middle == "middle-partly-frozen":
        s.middle[3].bias.requires_grad_(False)
    if middle == "middle-has-old-grads":  # an earlier backward, before middle was frozen
        s.middle(torch.randn(2, s.middle[0].in_features)).pow(2).mean().backward()
    before = snapshot(s.middle)
    out = call(forward_frozen_middle, s)
    assert_output(out, s)
    backward(out)
    changed = changes(before, s.middle, "grads")
    if not changed:
        return
    message = (
        f"middle got gradients: after out.sum().backward(), {listed(changed)}. An optimizer would then move middle's "
        "parameters. Freeze them: `requires_grad_(False)` on each of middle's parameters before running it."
    )
    if before.training["(the model)"] and not s.middle.training:
        raise AssertionError(Mistake(
            "ex18.eval_instead_of_freezing", "middle switched to eval mode instead of frozen",
            message + " eval mode does not freeze anything: `middle.eval()` only changes how layers such as dropout "
            "and batch-norm compute."
        ))
    raise AssertionError(Mistake("ex18.middle_gets_gradients", "middle not frozen, so it gets gradients", message))


# --------------------------------------------------------------------------- first and last


@pytest.mark.parametrize("case", CASES)
def test_first_and_last_get_gradients(forward_frozen_middle, case):
    s = Setup(case)
    before = {owner: snapshot(getattr(s, owner)) for owner in ("first", "last")}
    out = call(forward_frozen_middle, s)
    assert_output(out, s)
    cut = graph_is_cut(out, s)
    backward(out)
    params = {**s.params("first"), **s.params("last")}
    for owner in ("first", "last"):
        missing = [n for n in s.want_grads if n.startswith(owner + ".") and params[n].grad is None]
        if not missing:
            continue
        frozen = [c for c in changes(before[owner], getattr(s, owner), "flags") if "requires_grad=False" in c]
        if frozen:
            raise AssertionError(Mistake(
                "ex18.freezes_others", "first or last frozen too",
                f"`{owner}` got no gradient because forward_frozen_middle froze it as well: {listed(frozen)}. "
                f"Only middle's parameters are to be frozen; `{owner}` must keep learning."
            ))
        if owner == "first" and cut:
            raise AssertionError(CUT.reworded(f"after out.sum().backward(), `first` got no gradient: {CUT}"))
        raise AssertionError(Mistake(
            "ex18.no_gradient", "first or last getting no gradient",
            f"after out.sum().backward(), `{owner}`'s parameters {', '.join(missing[:4])} have no gradient: the "
            f"output must be computed as last(middle(first(x))) with tracking on, and `{owner}` left trainable."
        ))
    wrong = [n for n, g in s.want_grads.items() if not torch.allclose(params[n].grad, g, rtol=1e-4, atol=1e-6)]
    assert not wrong, Mistake(
        "ex18.wrong_gradients", "gradients that differ from one pass (backward called, or the output built twice)",
        f"after out.sum().backward(), the gradients of {', '.join(wrong[:4])} differ from those of "
        "last(middle(first(x))) with middle frozen: the output must come from a single pass through the three "
        "modules, and forward_frozen_middle must not call backward() itself."
    )


@pytest.mark.parametrize("flags", ["all-trainable", "first-partly-frozen", "last-partly-frozen"])
def test_first_and_last_flags_unchanged(forward_frozen_middle, flags):
    s = Setup()
    if flags == "first-partly-frozen":
        s.first[0].bias.requires_grad_(False)
    if flags == "last-partly-frozen":
        s.last.weight.requires_grad_(False)
    assert_left_alone({"first": s.first, "last": s.last}, lambda: call(forward_frozen_middle, s), "flags", Mistake(
        "ex18.other_flags_changed", "the flags of first or last changed",
        "forward_frozen_middle changed the flags of `first` or `last`: {changes}. Only middle is to be "
        "frozen; which parameters of first and last train is the caller's choice. Touch only "
        "`middle.parameters()`."
    ))


# --------------------------------------------------------------------------- global state


def test_grad_mode_unchanged(forward_frozen_middle):
    s = Setup()
    with grad_mode_kept("forward_frozen_middle"):
        out = call(forward_frozen_middle, s)
    assert_output(out, s)


@pytest.mark.parametrize("modes", ["all-train", "middle-eval", "all-eval"])
def test_modules_modes_unchanged(forward_frozen_middle, modes):
    s = Setup()
    s.first.train(modes != "all-eval")
    s.middle.train(modes == "all-train")
    s.last.train(modes != "all-eval")
    modules = {"first": s.first, "middle": s.middle, "last": s.last}
    assert_left_alone(modules, lambda: call(forward_frozen_middle, s), "modes", Mistake(
        "ex18.modes_changed", "a module's train/eval mode changed",
        "forward_frozen_middle changed a module's train/eval mode: {changes}. The mode is the caller's "
        "choice, and it freezes nothing: `eval()` only changes how dropout and batch-norm compute. Freeze with "
        "`requires_grad_(False)` on middle's parameters, and leave modes alone."
    ))


# --------------------------------------------------------------------------- generated structures


SKIPS_HOOKS = Mistake(
    "ex18.forward_skips_hooks", "middle.forward(...) called, which skips the hooks registered on middle",
    "The difference shows only where a forward hook is registered on middle itself: calling `middle.forward(...)` runs "
    "the layers but skips the hooks registered on middle (here one that changes its output), so the output is not "
    "what the caller's middle computes. Call the module itself, `middle(h)`: that runs its hooks."
)


def skipped_hooks(diff):
    """The smallest input that differs has a hook on middle itself, and a value differs."""
    return diff.case.get("hook") == "model" and diff.raised is None and "value" in diff.field


GENERATED = MODEL_SPACE.only(layers=(2,), dropout=(False,), tied=(False,), dtype=(torch.float32,), ties=(False,),
                             outputs=("several",), batch=("several",), frozen=("none", "alternate"), grads=(False, True))


@oracle
def reference_forward_frozen_middle(first, middle, last, x):
    for p in middle.parameters():
        p.requires_grad_(False)
    return last(middle(first(x)))


def generated_call(case):
    width = 1 if case.outputs == "one" else 3
    return {"first": nn.Sequential(nn.Linear(3, 4), nn.Tanh()).to(case.dtype), "middle": model_for(case),
            "last": nn.Linear(width, 2).to(case.dtype), "x": torch.randn(batch_for(case), 3, dtype=case.dtype)}


def gradients_after_backward(args, out):
    """What the caller's `out.sum().backward()` leaves: which parameters have a .grad, and their values."""
    out.sum().backward()
    return gradients_seen({"first": args["first"], "middle": args["middle"], "last": args["last"]}, "out.sum().backward()")


def test_agrees_with_the_reference_on_generated_structures(forward_frozen_middle):
    compare(forward_frozen_middle, reference_forward_frozen_middle, GENERATED, generated_call,
            fn_name="forward_frozen_middle", extra=1, known=[(skipped_hooks, SKIPS_HOOKS)], probe=gradients_after_backward)
