"""detach_() as a statement, then return t."""


def cut_history_(t):
    t.detach_()
    return t
