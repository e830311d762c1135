"""The 24 Kodak photographs as one archive a sweep reads (evaluation only; issue 17).

A sweep codes one batch of one image size, so the 6 portrait photos (512 x 768) are turned a
quarter to landscape (768 x 512) beside the 18 others; the archive is written outside the
repository (the data are never copied into it).

    .venv/bin/python docs/benchmarks/tables/kodak_archive.py DATA_DIR OUT.npz
"""

import sys
from pathlib import Path

import numpy as np

from diffair.models.data import load_image


def main(data_dir: Path, out: Path) -> None:
    photos = [load_image(p) for p in sorted((data_dir / "kodak24").glob("kodim*.png"))]
    landscape = [p if p.shape[0] <= p.shape[1] else np.rot90(p) for p in photos]
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, x_test=np.stack(landscape))
    print(f"{out}: {len(landscape)} photos, {sum(p.shape[0] > p.shape[1] for p in photos)} turned to landscape")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
