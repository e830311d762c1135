"""``diffair train icdm-decoder``: ICDM's decoder trained with ICDM in the loop (models.icdm.ICDMDecoder).

The wanted user's CIFAR-10 animals meet a synchronous interferer's vehicles as ``jscc-interf``
trains on them (models.training.baseline: one SNR per batch uniform in [10, 20] dB, one SINR
uniform in [-5 dB, SNR], random flips), and the trained ICDM receiver (width-64 priors, guidance
tables) separates each batch, alternately with 10 and 20 evaluations per prior (the receiver's
default K and the README's). The decoder learns image = D(ICDM's latent, y, SINR map), starting
(``start``) from a jscc-interf decoder ("baseline": ``init``, default the shipped one;
``ICDMDecoder.from_baseline``: at step 0 it is that baseline) or from the paper's decoder, the
wanted codec's ("codec": ``ICDMDecoder.from_codec``: at step 0 it decodes ICDM's estimate alone).

The sampler starts from zeros and is deterministic given the observation, so its outputs are
computed once per pass over the training images (``passes`` draws of channel, SINR and
interferer per image) and kept in ``out/checkpoints/<name>.pass<P>.safetensors`` (a resumed run
reads them back); the ``epochs`` then run over all passes. Validation: the last ``val_count``
animals and vehicles of the training split (never the test split), SNR 20 dB, SINR 0 dB, K = 10;
it reports the PSNR of jscc-interf, of ICDM with the paper's decoder (the codec's, not
re-trained) and of this one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields
from pathlib import Path

import torch
from safetensors.torch import save_file
from tqdm import tqdm

from diffair.dsp.errors import ConfigError
from diffair.models.baselines import interference_codec_name
from diffair.models.checkpoint import load_model, read_tensors
from diffair.models.data import held_out, load_images, to_tensor_batch
from diffair.models.denoiser import DenoiserConfig, LatentPrior
from diffair.models.icdm import PRIORS, ICDMDecoder, ICDMReceiver, decoder_name
from diffair.models.interference import INTERFERER_CLASSES, SIGNAL_CLASSES
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.models.observation import InterferedObservation
from diffair.models.training.baseline import _flipped, _frozen, _observe_interfered
from diffair.models.training.jscc import psnr_db
from diffair.models.training.loop import RunControl, TrainReport, run_epochs
from diffair.models.symbols import snr_map_db

SAMPLER_STEPS = (10, 20)
"""The K the training batches alternate between: the receiver's default and the README tables'."""


@dataclass(frozen=True)
class TrainICDMDecoderOptions:
    """data: training images (CIFAR-10 archive with labels); jscc / interferer: the two codecs'
    .safetensors (the priors ``icdm_prior_animals`` / ``icdm_prior_vehicles`` and the baseline
    ``jscc_interf_<channel>`` validation compares with are read from ``weights``); init: the
    jscc-interf codec (.safetensors) whose decoder the training starts from (None: that
    baseline's); start: "baseline" (from ``init``) or "codec" (from the wanted codec's decoder);
    passes: sampler outputs per training image (module docstring)."""

    data: Path
    out: Path
    jscc: Path
    interferer: Path
    weights: Path
    channel: str = "awgn"
    init: Path | None = None
    start: str = "baseline"
    epochs: int = 4
    passes: int = 2
    batch: int = 128
    lr: float = 2e-4
    snr_min_db: float = 10.0
    snr_max_db: float = 20.0
    sinr_min_db: float = -5.0
    val_count: int = 1000
    seed: int = 0
    threads: int = 1
    control: RunControl = RunControl()


@dataclass
class DecoderExamples:
    """What the decoder reads and must return, ``[N, ...]`` each: ICDM's wanted latent, y, the
    per-symbol SINR map (dB), and the sent image."""

    latent: torch.Tensor
    y: torch.Tensor
    sinr_db: torch.Tensor
    image: torch.Tensor

    @classmethod
    def of(cls, receiver: ICDMReceiver, obs: InterferedObservation, image: torch.Tensor) -> "DecoderExamples":
        with torch.no_grad():
            return cls(receiver.denoise(obs), obs.y, obs.snr_map_db, image)

    def tensors(self) -> dict[str, torch.Tensor]:
        return {field.name: getattr(self, field.name) for field in fields(self)}

    @classmethod
    def concatenated(cls, parts: list["DecoderExamples"]) -> "DecoderExamples":
        return cls(**{key: torch.cat([p.tensors()[key] for p in parts]) for key in parts[0].tensors()})

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        save_file({key: value.contiguous() for key, value in self.tensors().items()}, str(tmp))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "DecoderExamples":
        return cls(**read_tensors(path))


def train_icdm_decoder(options: TrainICDMDecoderOptions) -> TrainReport:
    """Train (or resume) and write ``out/icdm_decoder_<channel>.{safetensors,json}``."""
    if options.start not in ("baseline", "codec"):
        raise ConfigError(f"icdm-decoder start = {options.start!r}; expected 'baseline' or 'codec'")
    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    control, device = options.control, options.control.workers.device
    codec, interferer = _frozen(options.jscc, device).eval(), _frozen(options.interferer, device).eval()
    prior_x, prior_z = (load_model(LatentPrior, DenoiserConfig, options.weights, name).to(device) for name in PRIORS)
    baseline = load_model(DeepJSCC, JSCCConfig, options.weights, interference_codec_name(options.channel)).decoder
    receivers = {k: ICDMReceiver(prior_x, prior_z, codec.decoder, steps=k, channel=options.channel).eval()
                 for k in SAMPLER_STEPS}
    wanted = to_tensor_batch(load_images(options.data, "train", limit=control.limit, classes=SIGNAL_CLASSES))
    others = to_tensor_batch(load_images(options.data, "train", limit=control.limit, classes=INTERFERER_CLASSES))
    images, val_images = held_out(wanted, options.val_count)
    others, val_others = held_out(others, options.val_count)
    name = decoder_name(options.channel)
    cache = Path(options.out) / "checkpoints"
    cache.mkdir(parents=True, exist_ok=True)
    warnings.filterwarnings("ignore", message="ICDM at SINR")  # the training SINRs reach up to 20 dB on purpose

    def sampled_pass(index: int) -> DecoderExamples:
        path = cache / f"{name}.pass{index}.safetensors"
        if path.exists():
            return DecoderExamples.load(path)
        generator = torch.Generator(device=device).manual_seed(options.seed * 1000 + index)
        order = torch.randperm(len(images), generator=generator, device=device)
        parts = []
        batches = tqdm(order.split(256), desc=f"{name} pass {index + 1}/{options.passes}: ICDM sampling", leave=False,
                       mininterval=5, disable=not control.workers.is_main)
        for number, batch in enumerate(batches):
            x = _flipped(images[batch], generator)
            draw = torch.rand(2, generator=generator).tolist()
            snr = options.snr_min_db + (options.snr_max_db - options.snr_min_db) * draw[0]
            sinr = options.sinr_min_db + (snr - options.sinr_min_db) * draw[1]
            pick = torch.randint(0, len(others), (len(x),), generator=generator, device=device)
            obs = _observe_interfered(codec, interferer, x, _flipped(others[pick], generator), snr, sinr,
                                      options.channel, generator)
            parts.append(DecoderExamples.of(receivers[SAMPLER_STEPS[number % len(SAMPLER_STEPS)]], obs, x))
        examples = DecoderExamples.concatenated(parts)
        if control.workers.is_main:
            examples.save(path)
        return examples

    examples = DecoderExamples.concatenated([sampled_pass(p) for p in range(options.passes)])
    pairs = torch.arange(len(val_images)) % len(val_others)
    val_obs = _observe_interfered(codec, interferer, val_images, val_others[pairs], 20.0, 0.0, options.channel,
                                  torch.Generator(device=device).manual_seed(11))
    validation = DecoderExamples.of(receivers[SAMPLER_STEPS[0]], val_obs, val_images)
    if options.start == "codec":
        decoder = ICDMDecoder.from_codec(codec.decoder).to(device)
    else:
        start = baseline if options.init is None else _frozen(options.init, device).decoder
        decoder = ICDMDecoder.from_baseline(start).to(device)
    optimizer = torch.optim.AdamW(decoder.parameters(), lr=options.lr, weight_decay=1e-4)

    def loss(indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        out = decoder(examples.latent[indices], examples.y[indices], examples.sinr_db[indices])
        return (out - examples.image[indices]).square().mean()

    def score(image: torch.Tensor) -> float:
        return psnr_db((image - val_images).square().flatten(1).mean(1)).mean().item()

    @torch.no_grad()
    def evaluate() -> dict:
        return {"val_psnr_db_jscc_interf": score(baseline(val_obs.y, val_obs.snr_map_db)),
                "val_psnr_db_icdm_paper_decoder": score(codec.decoder(validation.latent,
                                                                      snr_map_db(val_obs.gain, val_obs.thermal_var))),
                "val_psnr_db_icdm": score(decoder(validation.latent, validation.y, validation.sinr_db))}

    return run_epochs(decoder, codec.config, optimizer, name=name, out=options.out, epochs=options.epochs,
                      lr=options.lr, items=len(examples.image), batch=options.batch, loss=loss, evaluate=evaluate,
                      seed=options.seed, control=control)
