"""Finding the head with `getattr(model, head)`: a dotted head name ('blocks.1') is not an
attribute of the model."""
EXPECT = "looks for ONE attribute whose name contains a dot"
MISTAKE = "ex14.getattr_dotted_head"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params = [p for p in getattr(model, head).parameters() if p.requires_grad]
    in_head = {id(p) for p in head_params}
    body_params = [p for p in model.parameters() if p.requires_grad and id(p) not in in_head]
    groups = [{"params": ps, "lr": lr} for ps, lr in ((head_params, head_lr), (body_params, body_lr)) if ps]
    return torch.optim.Adam(groups)
