"""Makes the detached tensor contiguous "for speed": a transposed t is copied into new memory."""
EXPECT = "t is not contiguous (it is transposed), and your result is"
MISTAKE = "ex06.contiguous_copy"


def stop_gradient(t):
    return t.detach().contiguous()
