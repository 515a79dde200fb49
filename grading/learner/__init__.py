"""What a learner uses beside grading: reset and solution, the state in `.kata/`, watch mode, the
kernel's `check()`."""
