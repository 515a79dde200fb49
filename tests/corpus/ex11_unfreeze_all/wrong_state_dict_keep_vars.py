"""Goes through model.state_dict(keep_vars=True): hits num_batches_tracked, an integer buffer."""
EXPECT = "`num_batches_tracked`, a buffer"
MISTAKE = "ex11.integer_buffer_unfrozen"


def unfreeze_all(model):
    frozen = sum(1 for p in model.parameters() if not p.requires_grad)
    for t in model.state_dict(keep_vars=True).values():
        t.requires_grad_(True)
    return frozen
