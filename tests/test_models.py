import torch
from torch import nn

from memo_utils.engine.models import resnet32


def test_resnet32_has_he_et_al_s_depth_and_size():
    model = resnet32()
    weight_layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weight_layers) == 32  # 6n + 2 with n = 5
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 2) == 0.46  # their Table 6
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
