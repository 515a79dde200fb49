"""The grading processes: the runner, its lanes and workers, the pytest plugin, the protocol
between processes, the frozen copy of the kata's sources, the target loader and the sandbox.

Kept empty: a fresh grading interpreter imports the frozen sources, then this package, first."""
