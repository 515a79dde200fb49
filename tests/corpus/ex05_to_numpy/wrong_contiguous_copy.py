"""contiguous() copies a non-contiguous tensor (a transposed one): the array no longer shares t's memory."""
EXPECT = "`.contiguous()` copy"
MISTAKE = "ex05.copies"


def to_numpy(t):
    return t.detach().contiguous().cpu().numpy()
