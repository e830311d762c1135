"""diffair's LPIPS (testbed/lpips.py) against the lpips package's own code, on real images.

The lpips package (0.1.4) builds its trunk with torchvision, which does not load beside the pinned
torch here, and AlexNet's ImageNet weights come from torchvision's download site, which this
machine cannot reach. So both sides get the same seeded random AlexNet trunk (torchvision's layer
layout), handed to the package through a stand-in ``torchvision`` module, and the package's real
v0.1 "alex" calibration (the 1 x 1 "lin" layers shipped in its wheel); what is compared is
everything LPIPS does around the trunk's weights: input scaling, the five taps, channel
normalisation, the calibration, the spatial mean. A one-off check, outside the tests (it needs
the wheel, which the tests may not download):

    .venv/bin/pip download lpips==0.1.4 --no-deps -d /tmp/lp && (cd /tmp/lp && unzip -oq lpips-0.1.4-*.whl)
    .venv/bin/python docs/benchmarks/lpips/crosscheck.py /tmp/lp [DATA_DIR] > docs/benchmarks/lpips/crosscheck.txt
"""

import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from diffair.models.data import load_image, load_images
from diffair.testbed.lpips import LPIPS


def alexnet_trunk() -> nn.Module:
    """AlexNet's ``features`` as torchvision lays them out (the indices are the state-dict names)."""
    trunk = nn.Module()
    trunk.features = nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(384, 256, 3, padding=1),
        nn.ReLU(inplace=True), nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
    return trunk


def main(wheel_dir: Path, data_dir: Path) -> None:
    torch.manual_seed(0)
    trunk = alexnet_trunk()
    stand_in = types.ModuleType("torchvision")
    stand_in.models = types.SimpleNamespace(alexnet=lambda **_: trunk)
    sys.modules["torchvision"], sys.modules["torchvision.models"] = stand_in, stand_in.models
    sys.path.insert(0, str(wheel_dir))
    import lpips

    reference = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False).eval()
    calibration = {k: v for k, v in reference.state_dict().items() if k.startswith("lin") and not k.startswith("lins")}
    weights = Path(tempfile.mkdtemp()) / "lpips_alex.safetensors"
    save_file({k: v.clone().contiguous() for k, v in {**trunk.state_dict(), **calibration}.items()}, weights)
    ours = LPIPS(weights)

    def theirs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        as_torch = lambda a: torch.from_numpy(a.reshape(-1, *a.shape[-3:])).permute(0, 3, 1, 2)  # noqa: E731
        with torch.no_grad():
            return reference(as_torch(x), as_torch(y), normalize=True).flatten().double().numpy()

    rng = np.random.default_rng(0)
    cifar = load_images(data_dir / "cifar10" / "cifar10_lossless_subset.npz", limit=256).astype(np.float32) / 255
    kodak = np.stack([load_image(data_dir / "kodak24" / f"kodim{i:02d}.png") for i in (3, 23)]).astype(np.float32) / 255
    print(f"{'images':<34} {'noise sigma':>11} {'LPIPS (lpips pkg)':>18} {'max |difference|':>17}")
    for name, images in (("256 CIFAR-10 test images, 32 px", cifar), ("kodim03, kodim23 (768 x 512)", kodak)):
        for sigma in (0.02, 0.1):
            noisy = np.clip(images + rng.normal(0, sigma, images.shape), 0, 1).astype(np.float32)
            a, b = ours(images, noisy), theirs(images, noisy)
            print(f"{name:<34} {sigma:>11g} {b.mean():>18.6f} {np.abs(a - b).max():>17.2e}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "../shared/data"))
