"""t.detach().requires_grad_(): a new object sharing t's memory; the caller's t is untouched."""
EXPECT = "a new tensor object that shares t's memory"
MISTAKE = "ex01.new_tensor_object"


def enable_tracking(t):
    return t.detach().requires_grad_()
