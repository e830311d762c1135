"""Exact rewrites applied to a graph before ONNX export, for speed on the backends.

onnxruntime's CPU ConvTranspose is several times slower per FLOP than its Conv (it scatters
through col2im; measured in docs/benchmarks/realtime.md). A transposed convolution of stride s
whose output is s times its input is the same function as one ordinary convolution that makes
s * s output channels per channel (one per output phase), followed by depth-to-space
("sub-pixel" or polyphase form): output pixel s * m + r draws on input pixels m + j with the
kernel tap k = r + p - s * j. ``polyphase`` rewrites every such layer of a module; the result
equals the original to float rounding (tests/test_export.py).
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def _phase_taps(kernel: int, stride: int, padding: int) -> dict[tuple[int, int], int]:
    """{(output phase r, input offset j): kernel tap k} of a 1-D transposed convolution."""
    return {(r, (r + padding - k) // stride): k for r in range(stride) for k in range(kernel)
            if (r + padding - k) % stride == 0}


def rewritable(layer: nn.ConvTranspose2d) -> bool:
    """Whether ``layer`` has the square, ungrouped, undilated form ``PolyphaseConvTranspose`` takes,
    with an output exactly ``stride`` times its input and a centred phase kernel."""
    (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
    (oh, ow), (dh, dw) = layer.output_padding, layer.dilation
    if not (kh == kw and sh == sw and ph == pw and oh == ow and layer.groups == 1 and dh == dw == 1):
        return False
    if kh - 2 * ph + oh != sh:      # output side (H - 1) s - 2p + k + o_p must be s * H
        return False
    offsets = [j for _, j in _phase_taps(kh, sh, ph)]
    return min(offsets) == -max(offsets)


class PolyphaseConvTranspose(nn.Module):
    """A ``nn.ConvTranspose2d`` (``rewritable``) as Conv2d to ``cout * s * s`` channels and
    pixel_shuffle(s): ``[B, cin, H, W] -> [B, cout, s H, s W]``, the same function."""

    def __init__(self, layer: nn.ConvTranspose2d):
        super().__init__()
        if not rewritable(layer):
            raise ValueError(f"{layer} has no centred polyphase form")
        kernel, stride, padding = layer.kernel_size[0], layer.stride[0], layer.padding[0]
        taps = _phase_taps(kernel, stride, padding)
        reach = max(j for _, j in taps)
        size = 2 * reach + 1
        weight = layer.weight.detach()                      # [cin, cout, k, k]
        cin, cout = weight.shape[:2]
        phased = weight.new_zeros(cout, stride, stride, cin, size, size)
        for (ry, jy), ky in taps.items():
            for (rx, jx), kx in taps.items():
                phased[:, ry, rx, :, jy + reach, jx + reach] = weight[:, :, ky, kx].T
        self.stride = stride
        self.conv = nn.Conv2d(cin, cout * stride * stride, size, padding=reach, bias=layer.bias is not None)
        self.conv.weight.data.copy_(phased.reshape(cout * stride * stride, cin, size, size))
        if layer.bias is not None:
            self.conv.bias.data.copy_(layer.bias.detach().repeat_interleave(stride * stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return nn.functional.pixel_shuffle(y, self.stride) if self.stride > 1 else y


def polyphase(module: nn.Module) -> nn.Module:
    """A copy of ``module`` with every rewritable ConvTranspose2d in polyphase form (others kept)."""
    module = copy.deepcopy(module)
    for parent in module.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.ConvTranspose2d) and rewritable(child):
                setattr(parent, name, PolyphaseConvTranspose(child))
    return module
