"""What the lanes of one grading run share (`Shared`: the results, the time limits, the work not yet
settled), and the request a lane's worker is started with."""

from __future__ import annotations

from dataclasses import dataclass

from grading import ROOT

from grading.core.results import CheckResult, CheckStatus
from grading.engine.request import Request


Work = tuple  # (index of the target, Exercise)


@dataclass
class Limits:
    check: float  # seconds per check
    exercise: float  # seconds for all the checks of one exercise
    submission: float  # seconds for all the exercises of one target
    compiling: float  # seconds of compiling per exercise not charged (see grading.engine.compiling)

    @classmethod
    def of(cls, options) -> "Limits":
        return cls(options.timeout, options.exercise_timeout, options.submission_timeout, options.compile_allowance)


def crashed(check: str, how: str) -> CheckResult:
    return CheckResult(name=check, status=CheckStatus.CRASHED, message=(
        f"the Python process running this check {how}: your code ended or crashed the "
        "interpreter (`sys.exit()`, `os._exit()`, a segmentation fault, running out of memory). "
        "No result means no points."
    ))


def build_request(base: dict, work: list[Work], method: str) -> Request:
    """What a lane's child is asked to do: `work`, as jobs of consecutive exercises of one target."""
    jobs: list[list] = []
    for i, ex in work:
        if jobs and jobs[-1][0] == i:
            jobs[-1][2].append(ex.id)
        else:
            jobs.append([i, base["targets"][i], [ex.id]])
    inifile = ROOT / "pyproject.toml"
    return Request(
        files=[str(ex.check_file) for ex in base["exercises"] if any(w[1] is ex for w in work)],
        target=jobs[0][1],
        jobs=jobs,
        seed=base["seed"],
        options=base["options"],
        isolation=base["isolation"],  # a process per "exercise" or per "submission"...
        fork=method == "fork",  # ... forked; else the one fresh interpreter grades one submission
        optimizers=any(ex.optimizers for _, ex in work),  # warmed before the exercise processes fork
        inifile=str(inifile) if inifile.exists() else None,
        scratch=base["scratch"],
        targets=base["targets"],
        display_base=base["display_base"],
        graph=base.get("graph", []),
    )


class Shared:
    """What the lanes of one grading run share: the results, the checks each exercise owes, the
    limits, and when each target's grading began."""

    def __init__(self, runs, results, limits: Limits, report, on_complete, pending: list[Work], on_settled=None):
        self.runs, self.results, self.limits, self.report, self.on_complete = runs, results, limits, report, on_complete
        self.on_settled = on_settled
        self.expected: dict[str, list[str]] = {}  # exercise id -> its collected checks, set once
        self.began: dict[int, float] = {}  # target -> when its first check started
        self.out_of_time: set[int] = set()  # targets past the submission limit
        self.remaining: dict[int, set[str]] = {i: set() for i in range(len(runs))}
        self.unsettled: dict[int, set[str]] = {i: {e.id for e in run.exercises} for i, run in enumerate(runs)}
        for i, ex in pending:
            self.remaining[i].add(ex.id)
        self.compiled: dict[tuple[int, str], float] = {}  # (target, exercise) -> seconds of compiling not charged
        self.compiling: dict[tuple[int, str], tuple[float, float]] = {}  # compiling now: (since, allowance left)

    def credit(self, key: tuple[int, str]) -> float:
        """Seconds the limits of this exercise do not charge: its compiling so far, and, while it
        compiles, all the allowance it has left (the deadlines stand where that would end)."""
        return self.compiled.get(key, 0.0) + (self.compiling[key][1] if key in self.compiling else 0.0)

    def start_compiling(self, key: tuple[int, str], now: float) -> float:
        """The exercise says it compiles: the seconds its deadlines move (0 once the allowance is spent)."""
        left = self.limits.compiling - self.compiled.get(key, 0.0)
        if key in self.compiling or left <= 0:
            return 0.0
        self.compiling[key] = (now, left)
        return left

    def stop_compiling(self, key: tuple[int, str], now: float) -> float:
        """... and that it is done: the seconds its deadlines move back (the allowance not used)."""
        if key not in self.compiling:
            return 0.0
        since, left = self.compiling.pop(key)
        spent = min(max(0.0, now - since), left)
        self.compiled[key] = self.compiled.get(key, 0.0) + spent
        return left - spent

    def settle(self, i: int, exercise_id: str) -> None:
        """Nothing more can come about this exercise of target i (the process that graded it has
        ended): a collected check that never reported fails it now (no result, no points), and a
        target whose exercises are all settled has its final results (on_settled(i, run))."""
        left = self.unsettled[i]
        if exercise_id not in left:
            return
        left.discard(exercise_id)
        result = self.results[i, exercise_id]
        names = self.expected.get(exercise_id, [])
        reported = {c.name for c in result.checks}
        missing = [n for n in names if n not in reported]
        charged = any(c.status in ("crashed", "timeout") for c in result.checks)
        if missing and not result.error and not charged:
            result.error = (f"{len(missing)} check(s) of this exercise never reported a result "
                            f"(the first: {missing[0]}): no result, no points")
        if not left and self.on_settled:
            self.on_settled(i, self.runs[i])

    def finished(self, i: int, exercise_id: str) -> None:
        """The exercise of target i has its final results; a target with nothing left is
        complete before the others are (batch grading shows it)."""
        left = self.remaining[i]
        if exercise_id in left:
            left.discard(exercise_id)
            if not left:
                self.runs[i].complete = True
                if self.on_complete:
                    self.on_complete(i, self.runs[i])

    def submission_deadline(self, i: int) -> float:
        began = self.began.get(i)
        if began is None:
            return float("inf")
        credit = sum(self.credit(k) for k in {*self.compiled, *self.compiling} if k[0] == i)
        return began + self.limits.submission + credit
