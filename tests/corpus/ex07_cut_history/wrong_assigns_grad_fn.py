"""Assigning t.grad_fn = None: autograd's attribute is read-only."""
EXPECT = "`t.grad_fn` cannot be assigned"
MISTAKE = "ex07.assigns_grad_fn"


def cut_history_(t):
    t.grad_fn = None
    return t
