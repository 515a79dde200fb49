"""Goes through the model's children only: a parameter the model holds itself (here a 0-dim
temperature) belongs to no child, so it stays frozen and is not counted."""
EXPECT = "`model.children()` (or a loop over submodules) never reaches them"
MISTAKE = "ex11.root_parameters_missed"
NOT_EXPECT = "Tensors from `model.state_dict()` are detached copies"


def unfreeze_all(model):
    frozen = 0
    for child in model.children():
        for p in child.parameters():
            if not p.requires_grad:
                frozen += 1
                p.requires_grad_(True)
    return frozen
