"""Undoing what a learner's code changed in the process that grades it.

Where every exercise has a process of its own (the default for a single grade), whatever a
learner's module changes dies with that process. Where one process grades several exercises
one after the other (`--isolation submission`, the default in batch grading, and the fallback
where there is no `fork`), `Snapshot()` records the process's state before the first one,
and `restore()` puts it back after each, so that no exercise's code can change the verdict of
the next:

- the namespaces code monkeypatches: `torch` and every public module of the parts of torch the
  kata uses (`torch.nn`, `torch.optim`, `torch.autograd`, ...) and of numpy, and every class they
  hold (`torch.Tensor.backward`, `torch.optim.Adam.step`, `torch.nn.utils.clip_grad_norm_`,
  `np.allclose`, ...), the builtins and the standard modules the checks rely on, pytest, and the
  kata's own checks and engine. A replaced attribute is put back; an attribute added to a class
  (which would shadow an inherited one) is removed. Attributes added to a module are left:
  they are lazily imported submodules far more often than patches, and shadow nothing;
- `sys.modules` entries that were replaced or removed; the learner's own modules are dropped,
  and what they held is collected there and then (a context such as inference mode, entered at
  import and still held, would otherwise end at some random later moment, switching its mode
  back in the middle of another exercise);
- torch's global modes beyond the ones every check resets (grad mode, default dtype, anomaly
  detection): inference mode, the default device, torch-function and dispatch modes and
  saved-tensor hooks left entered, deterministic algorithms, the number of threads;
- the working folder, the environment, `sys.path`, the warning filters, the recursion limit, the
  garbage collector's callbacks, trace and profile functions (`sys.settrace`, `sys.setprofile`,
  and threading's); garbage is collected before the state is put back and again
  after (a `__del__` that patches runs before, not after), until nothing changes;
- threads: one that the learner's code started and left running could change the state again at
  any moment, so the rest of the submission gets a fresh process (`threads_left()`);
- memory, which is not put back but watched (`Headroom`): memory an exercise allocated and freed
  often stays with the process, and would count against the next exercise's allowance; once a
  quarter of the room under the data limit is gone, the rest of the submission gets a fresh process.

A change to other state (a C extension's internals, an object mutated in place) is not undone;
it can only reach the same submission's later exercises, never another submission's.
"""

from __future__ import annotations

import gc
import operator
import os
import sys
import threading
import warnings
from itertools import islice

from grading.engine.targets import MODULE_PREFIX, forget_loaded, is_sibling_module

# the parts of torch and numpy that the checks and the exercises use: every public module of these
# packages (no private part in its dotted name), and every class those modules hold
PACKAGES = ("torch.nn", "torch.optim", "torch.autograd", "torch.linalg", "torch.testing", "torch.utils.hooks",
            "torch.random", "torch.functional", "numpy")
# these modules, and the modules of these packages, private ones included
MODULES = ("torch", "builtins", "math", "cmath", "random", "copy", "functools", "itertools", "operator",
           "collections", "contextlib", "warnings", "inspect", "types", "pytest", "_pytest", "checks", "grading")


def _watched(name: str) -> bool:
    if name in MODULES or name.partition(".")[0] in MODULES[1:]:
        return True
    return any(name == p or name.startswith(p + ".") for p in PACKAGES) \
        and not any(part.startswith("_") for part in name.split("."))


_MISSING = object()
_IMMUTABLE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: built-in and extension types, which nothing can patch


class _Namespace:
    """The attributes of one module or class, as they were."""

    __slots__ = ("owner", "keys", "values", "is_class", "size")

    def __init__(self, owner, is_class: bool):
        items = dict(vars(owner))
        self.owner, self.is_class = owner, is_class
        self.keys, self.values = tuple(items), tuple(items.values())
        self.size = len(items)

    def restore(self) -> bool:
        """Put back what changed; True if anything had."""
        current = vars(self.owner)
        # the fast path, one pass in C (it runs for thousands of namespaces): a replaced value keeps
        # its place in the dict, an added one comes after the others, and identity is what counts
        size = len(current)
        if (size == self.size or (size > self.size and not self.is_class)) \
                and all(map(operator.is_, islice(current.values(), self.size), self.values)):
            return False
        for key, value in zip(self.keys, self.values):
            if current.get(key, _MISSING) is not value:
                self._set(key, value)
        if self.is_class and len(current) != self.size:
            known = set(self.keys)
            for key in [k for k in current if k not in known]:
                try:
                    delattr(self.owner, key)
                except (AttributeError, TypeError):
                    pass
        return True

    def _set(self, key, value) -> None:
        if self.is_class:
            try:
                setattr(self.owner, key, value)
            except (AttributeError, TypeError):  # a built-in type's slot: it cannot have been replaced either
                pass
        else:
            vars(self.owner)[key] = value


class Snapshot:
    """The process's state, as it was before any learner's code ran."""

    def __init__(self):
        with warnings.catch_warnings():  # looking at some attributes warns that they are deprecated
            warnings.simplefilter("ignore")
            self._take()

    def _take(self) -> None:
        modules = [m for name, m in list(sys.modules.items()) if m is not None and _watched(name)]
        classes: dict[int, type] = {}
        for module in modules:
            for value in list(vars(module).values()):
                if isinstance(value, type):
                    for cls in value.__mro__:  # and the classes it inherits from
                        if not cls.__flags__ & _IMMUTABLE:
                            classes.setdefault(id(cls), cls)
        self.namespaces = [_Namespace(m, False) for m in modules]
        self.namespaces += [_Namespace(c, True) for c in classes.values()]
        self.sys_modules = dict(sys.modules)
        self.cwd = _cwd()
        self.environ = dict(os.environ)
        self.path = list(sys.path)
        self.filters = list(warnings.filters)
        self.recursion_limit = sys.getrecursionlimit()
        self.gc_callbacks = list(gc.callbacks)
        self.hooks = _trace_hooks()
        self.threads = {t.ident for t in threading.enumerate()}
        self.torch = _TorchState.take()

    def restore(self) -> None:
        forget_loaded()  # the next exercise loads its module afresh
        gc.callbacks[:] = self.gc_callbacks  # a learner's callback would patch again at every collection
        if _trace_hooks() != self.hooks:  # a trace or profile function sees (and may rewrite) every later frame
            _set_trace_hooks(self.hooks)
        modules = sys.modules
        for name in [n for n in modules if (n.startswith(MODULE_PREFIX) or is_sibling_module(n))
                     and n not in self.sys_modules]:
            del modules[name]  # the learner's modules go, and with them what they hold
        # What the learner's code left behind goes now, not at some later moment: a context it
        # entered and still held (an inference-mode guard, say) must not switch its mode back in
        # the middle of the next exercise, and an object whose __del__ patches something must not
        # do it after the state is put back. So garbage is collected, the state put back, and,
        # where putting it back made garbage of cycles (whose __del__ may patch again), collected
        # and put back again (at most three times).
        gc.collect()
        for _ in range(3):
            if not self._put_back_namespaces() or gc.collect() == 0:
                break
        else:
            self._put_back_namespaces()
        if self.cwd is not None and _cwd() != self.cwd:
            try:
                os.chdir(self.cwd)
            except OSError:
                pass
        if os.environ != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)
        sys.path[:] = self.path
        if warnings.filters != self.filters:
            warnings.filters[:] = self.filters
            getattr(warnings, "_filters_mutated", lambda: None)()  # the module caches which filter applies where
        if sys.getrecursionlimit() != self.recursion_limit:
            sys.setrecursionlimit(self.recursion_limit)
        if self.torch is not None:
            self.torch.restore()

    def _put_back_namespaces(self) -> bool:
        """The modules' and classes' attributes and sys.modules as they were; True if any had changed."""
        changed = False
        for namespace in self.namespaces:
            changed = namespace.restore() or changed
        modules = sys.modules
        for name, module in self.sys_modules.items():
            if modules.get(name) is not module:
                modules[name] = module
                changed = True
        return changed

    def threads_left(self) -> list[threading.Thread]:
        """Threads the learner's code started that are still running: nothing can stop them from
        changing the state again, so the process must not grade another exercise."""
        me = threading.current_thread()
        return [t for t in threading.enumerate() if t is not me and t.ident not in self.threads and t.is_alive()]


def _trace_hooks() -> tuple:
    """The trace and profile functions of this thread and of threads started from now on."""
    return (sys.gettrace(), sys.getprofile(), getattr(threading, "gettrace", lambda: None)(),
            getattr(threading, "getprofile", lambda: None)())


def _set_trace_hooks(hooks: tuple) -> None:
    trace, profile, thread_trace, thread_profile = hooks
    sys.settrace(trace)
    sys.setprofile(profile)
    threading.settrace(thread_trace)
    threading.setprofile(thread_profile)


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the folder was removed under the process
        return None


class _TorchState:
    """torch's process-wide modes that a check does not reset itself. Each is probed through
    PyTorch's own (partly private) accessors where this version has them, and left alone where
    it does not."""

    def __init__(self, torch):
        self.torch, C = torch, torch._C
        self.function_modes = _probe(lambda: C._len_torch_function_stack())
        self.dispatch_modes = _probe(lambda: C._len_torch_dispatch_stack())
        self.hooks_probed = _probe(lambda: C._autograd._top_saved_tensors_default_hooks(False) is None)
        self.deterministic = _probe(torch.are_deterministic_algorithms_enabled)
        self.threads = _probe(torch.get_num_threads)
        self.default_device = _probe(lambda: torch.get_default_device())
        self.guards: list = []  # kept alive: each switches inference mode off for the rest of the process

    @classmethod
    def take(cls):
        torch = sys.modules.get("torch")
        return cls(torch) if torch is not None else None

    def restore(self) -> None:
        torch, C = self.torch, self.torch._C
        if self.default_device is not None and torch.get_default_device() != self.default_device:
            torch.set_default_device(None if self.default_device.type == "cpu" else self.default_device)
        if self.function_modes is not None:
            while C._len_torch_function_stack() > self.function_modes:
                C._pop_torch_function_stack()
        if self.dispatch_modes is not None:
            while C._len_torch_dispatch_stack() > self.dispatch_modes:
                C._pop_torch_dispatch_stack()
        if self.hooks_probed:  # there were none: any left entered by a learner go
            while C._autograd._top_saved_tensors_default_hooks(False) is not None:
                C._autograd._pop_saved_tensors_default_hooks()
        if torch.is_inference_mode_enabled():  # entered and never left
            self.guards.append(C._InferenceMode(False))
        if self.deterministic is not None and torch.are_deterministic_algorithms_enabled() != self.deterministic:
            torch.use_deterministic_algorithms(self.deterministic)
        if self.threads is not None and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)


def _probe(read):
    """What `read()` says, or None where this version of PyTorch cannot say."""
    try:
        return read()
    except Exception:
        return None


class Headroom:
    """The room under this process's data-memory limit (see `grading.engine.child`), as it is now."""

    SHARE = 0.25  # spent when a quarter of it is gone

    def __init__(self):
        self.start = data_in_use()
        self.limit = _data_limit()

    def spent(self) -> bool:
        if not self.limit or not self.start or self.limit <= self.start:
            return False
        return data_in_use() - self.start > self.SHARE * (self.limit - self.start)


def data_in_use(field: str = "VmData") -> int:
    """Bytes of data memory this process holds now (Linux), or 0 where that cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def address_space_in_use() -> int:
    """Bytes of address space this process has mapped (Linux: VmSize), or 0."""
    return data_in_use("VmSize")


def _data_limit() -> int:
    """The data-memory limit set on this process, or 0 where there is none."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
        return 0 if soft == resource.RLIM_INFINITY else soft
    except (ImportError, ValueError, OSError, AttributeError):
        return 0
