"""The networks of the papers: ReLU MLPs, the small AlexNet-style CNN, VGG-11/13 and ResNet-32."""

from __future__ import annotations

import math

import torch
from torch import nn


def init_mlp(sizes, generator):
    """Weights ``(in, out)`` and biases of a ReLU MLP, drawn on the CPU from ``generator``.

    Same distribution as ``nn.Linear``'s default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
    weights and biases, so a batched ensemble and a plain ``nn.Sequential`` can start from
    identical parameters. Drawing on the CPU makes the init the same on every device.
    """
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        weight = (torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * bound
        bias = (torch.rand(fan_out, generator=generator) * 2 - 1) * bound
        params.append((weight, bias))
    return params


def mlp_module(sizes, generator):
    """A plain ``nn.Sequential`` MLP with the parameters of :func:`init_mlp`."""
    layers = []
    for i, (weight, bias) in enumerate(init_mlp(sizes, generator)):
        linear = nn.Linear(*weight.shape)
        with torch.no_grad():
            linear.weight.copy_(weight.T)
            linear.bias.copy_(bias)
        layers += [linear, nn.ReLU()] if i < len(sizes) - 2 else [linear]
    return nn.Sequential(nn.Flatten(), *layers)


class SmallAlexNet(nn.Module):
    """Arpit et al. (2017) footnote 2, after Zhang et al. (2017).

    Input -> Crop(2,2) -> Conv(200,5,5) -> BN -> ReLU -> MaxPool(3,3) -> Conv(200,5,5) -> BN
    -> ReLU -> MaxPool(3,3) -> Dense(384) -> BN -> ReLU -> Dense(192) -> BN -> ReLU -> Dense.
    Our reading of the unstated details: the crop is a centre crop (32 -> 28), convolutions
    use "same" padding, and the 3x3 max-pooling has stride 2, as in the TensorFlow CIFAR-10
    model that Zhang et al. adapted. ``width`` (200 in the paper) is lowered for CPU profiles.
    """

    def __init__(self, num_classes=10, width=200, in_channels=3, image_size=32):
        super().__init__()
        side = image_size - 4
        for _ in range(2):
            side = (side - 3) // 2 + 1
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 5, padding=2),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(width, width, 5, padding=2),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(width * side * side, 384),
            nn.BatchNorm1d(384),
            nn.ReLU(),
            nn.Linear(384, 192),
            nn.BatchNorm1d(192),
            nn.ReLU(),
            nn.Linear(192, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x[..., 2:-2, 2:-2]))

    @property
    def first_layer_filters(self):
        return self.features[0].weight


def small_alexnet_macs(width):
    """Multiply-accumulates of one SmallAlexNet forward pass on a 32x32 image (its convolutions and the
    first dense layer), the unit in which chapters state their CNN work."""
    return 28 * 28 * 75 * width + 13 * 13 * 25 * width * width + 6 * 6 * width * 384


def conv_macs(model, image_shape=(3, 32, 32)):
    """Multiply-accumulates of the (transposed) convolutions and linear layers of one forward pass on one
    input of ``image_shape``, counted with forward hooks (the unit in which chapters state the work of VGG,
    ResNet and the DCGAN)."""
    total = []

    def count(module, inputs, output):
        weight = module.weight
        if isinstance(module, nn.Conv2d):  # each output element: in_channels x k x k
            total.append(output[0].numel() * weight[0].numel())
        elif isinstance(module, nn.ConvTranspose2d):  # each input element: out_channels x k x k
            total.append(inputs[0][0].numel() * weight[0].numel())
        else:
            total.append(weight.numel())

    layers = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, layers)]
    was_training = model.training
    with torch.no_grad():
        model.eval()(torch.zeros(1, *image_shape))
    model.train(was_training)
    for hook in hooks:
        hook.remove()
    return sum(total)


VGG_LAYERS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
}


def vgg(name="vgg11", num_classes=10, batch_norm=False, width=1.0, output_bias=True, he_init=False):
    """VGG-11/13 for 32x32 inputs (Simonyan & Zisserman's convolutions, one linear classifier).

    ``width`` multiplies every layer's channels (at least 1), for narrow variants on a CPU.
    ``he_init`` draws the weights as torchvision's VGG does (convolutions He-normal on fan-out,
    the classifier N(0, 0.01), biases 0): without batch norm, PyTorch's default init shrinks the
    signal at every layer and a VGG-11 stays at chance for many epochs. Without ``output_bias``
    the classifier has no bias, so every parameter belongs to some feature map (turn-over dropout's
    sub-networks then share nothing, :mod:`memo_utils.methods.turn_over`).
    """
    layers, channels = [], 3
    for spec in VGG_LAYERS[name]:
        if spec == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        spec = max(1, round(spec * width))
        layers.append(nn.Conv2d(channels, spec, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(spec))
        layers.append(nn.ReLU(inplace=True))
        channels = spec
    network = nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels, num_classes, bias=output_bias))
    if he_init:
        for module in network.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
    return network


class _BasicBlock(nn.Module):
    def __init__(self, in_channels, channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.stride, self.extra_channels = stride, channels - in_channels

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        shortcut = x[..., :: self.stride, :: self.stride]  # option A: subsample, pad the new channels with zeros
        if self.extra_channels:
            half = self.extra_channels // 2
            shortcut = nn.functional.pad(shortcut, (0, 0, 0, 0, half, self.extra_channels - half))
        return torch.relu(out + shortcut)


def resnet32(num_classes=10, width=1.0):
    """He et al. (2016, section 4.2) CIFAR ResNet with n = 5: 6n + 2 = 32 layers, 0.46M parameters.

    Gu & Tresp (2019) use a "ResNet32" without details; this is He et al.'s CIFAR network with
    their parameter-free shortcut (option A), the usual reading of that name. ``width``
    multiplies the stages' 16, 32 and 64 channels (at least 1), for narrow variants on a CPU.
    """
    stages = [max(1, round(c * width)) for c in (16, 32, 64)]
    layers, channels = (
        [nn.Conv2d(3, stages[0], 3, padding=1, bias=False), nn.BatchNorm2d(stages[0]), nn.ReLU()],
        stages[0],
    )
    for stage, stage_channels in enumerate(stages):
        for block in range(5):
            layers.append(_BasicBlock(channels, stage_channels, stride=2 if stage and not block else 1))
            channels = stage_channels
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))


class DCGANGenerator(nn.Module):
    """Radford et al. (2016) for 32x32 images, as Gu & Tresp (2019, section 4) use it: z in R^100
    through four transposed convolutions (4x4 -> 8x8 -> 16x16 -> 32x32x3), batch norm and ReLU
    between them, tanh at the end (images in [-1, 1]). ``width`` is the channels of the first
    feature map divided by 8 (64 in the usual DCGAN)."""

    def __init__(self, z_dim=100, width=64, channels=3):
        super().__init__()
        self.z_dim, self.channels = z_dim, channels
        w = width
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, 8 * w, 4, 1, 0, bias=False),
            nn.BatchNorm2d(8 * w),
            nn.ReLU(True),
            nn.ConvTranspose2d(8 * w, 4 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(4 * w),
            nn.ReLU(True),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * w, channels, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z):
        """z: (..., z_dim) -> images (..., channels, 32, 32)."""
        batch = z.shape[:-1]
        return self.net(z.reshape(-1, self.z_dim, 1, 1)).reshape(*batch, self.channels, 32, 32)


class DCGANDiscriminator(nn.Module):
    """The DCGAN discriminator for 32x32 images: four convolutions (32 -> 16 -> 8 -> 4 -> 1), leaky
    ReLU, batch norm on the middle two; one logit per image (real vs generated)."""

    def __init__(self, width=64, channels=3):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(4 * w),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(4 * w, 1, 4, 1, 0, bias=False),
        )

    def forward(self, x):
        return self.net(x).flatten(1)[:, 0]
