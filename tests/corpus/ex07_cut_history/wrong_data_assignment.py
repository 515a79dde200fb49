"""Assigning t.data a detached copy: new memory, and t keeps its grad_fn."""
EXPECT = "t still carries its history"
MISTAKE = "ex07.history_kept"


def cut_history_(t):
    t.data = t.detach().clone()
    return t
