"""ICDM (Wu et al., "Interference Cancellation Diffusion Models for Wireless Semantic
Communications", arXiv 2505.19983): joint MAP-style estimation of the wanted latent x and the
interference latent z from y = W_x x + W_z z + w (models.interference), with one diffusion
prior per source.

Joint gradient. Both priors are noise-prediction networks on unit-variance latents
(x_t = a_t x0 + s_t eps with a_t = sqrt(alpha_bar_t), s_t = sqrt(1 - alpha_bar_t)), so
-eps / s_t is the prior score. The channel-likelihood score is added in closed form: with
Tweedie's estimates x0_hat, z0_hat, the residual mu_t = y - W_x x0_hat - W_z z0_hat (complex,
per symbol) has per-real-dimension variance Theta_t = var(w) + s_t^2 (W_x^2 + |W_z|^2) (the
posterior spread of a unit-variance latent at step t), and

    grad_x log p(y | x_t, z_t) = a_t W_x mu_t / Theta_t,   grad_z = a_t conj(W_z) mu_t / Theta_t,

exact when the latents are Gaussian (then x0 | x_t ~ N(a_t x_t, s_t^2)). The guided noise
predictions are eps_x - Lambda s_t grad_x and eps_z - beta s_t grad_z. Lambda = beta = 1 is the
Bayesian weighting for Gaussian latents; with the trained priors stronger guidance is much
better, and, as in the paper's tables (notes §2.5), the best (Lambda, beta) moves with the SINR:
GUIDANCE_TABLES (one per channel type), tuned on the lossless TRAIN split (docs/icdm.md),
interpolated in between.

Sampler. The paper runs a joint predictor-corrector (UniPC) with both sources advanced in
lock-step, 40 steps uniform in log-SNR, one evaluation per prior per step. Here: DDIM
predictor + UniC corrector (models.sampler.corrected_step, second order), K evaluations per
prior on a grid uniform in lambda from t = T-1 to 0. Starting from x_T = z_T = 0, the
deterministic flow returns the posterior mean when the latents are Gaussian, the MSE-optimal
point; ``start="noise"`` draws N(0, I) instead (a posterior sample).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from diffair.dsp.errors import ConfigError
from diffair.models.contract import LoadRequest, Receiver, ReceiverSpec
from diffair.models.denoiser import REALTIME_SUFFIX, DenoiserConfig, LatentPrior
from diffair.models.interference import ICDM_INTERFERER_CODEC
from diffair.models.jscc import DeepJSCC, JSCCConfig, JSCCDecoder
from diffair.models.observation import InterferedObservation
from diffair.models.sampler import corrected_step, ddim_step
from diffair.models.schedule import NoiseSchedule
from diffair.models.symbols import snr_map_db

VALIDATED_SINR_DB = (-5.0, 10.0)
MIN_VALIDATED_STEPS = 10
"""Below 10 evaluations per prior the trained sampler diverges under every guidance setting
tried (K = 5: latent MSE +24.7 dB with the K = 10 table, at best -1.6 dB; docs/icdm.md)."""


def lambda_grid(schedule: NoiseSchedule, count: int) -> np.ndarray:
    """``count`` distinct steps from T-1 down to 0, evenly spaced in half log-SNR (where two
    round to the same step near t = 0, the later one moves up by one)."""
    if not 1 <= count <= schedule.steps:
        raise ConfigError(f"ICDM sampler steps = {count}; expected 1 to {schedule.steps}")
    lam = 0.5 * np.log(schedule.alphas_cumprod / (1 - schedule.alphas_cumprod))
    steps = [int(np.argmin(np.abs(lam - v))) for v in np.linspace(lam[-1], lam[0], count)]
    for i in range(count - 2, -1, -1):
        steps[i] = max(steps[i], steps[i + 1] + 1)
    return np.array(steps, dtype=np.int64)


@dataclass(frozen=True)
class Guidance:
    """Weights of the likelihood term for the wanted signal (Lambda) and the interference
    (beta), and where the UniC corrector runs: at the steps whose alpha_bar exceeds
    ``corrector_from`` (0: every step; with few steps and strong guidance, correcting the
    noisy first steps overshoots)."""

    signal: float = 1.0
    interference: float = 1.0
    corrector_from: float = 0.0

    def tensor(self) -> torch.Tensor:
        """(Lambda, beta, corrector_from) ``[3]``: the sampler's ``guidance`` input."""
        return torch.tensor([self.signal, self.interference, self.corrector_from])


GUIDANCE_TABLES = {
    "rayleigh": ((-5.0, Guidance(3.0, 1.5)), (0.0, Guidance(2.5, 1.5)), (5.0, Guidance(2.0, 3.0)),
                 (10.0, Guidance(2.0, 3.0))),
    "awgn": ((-5.0, Guidance(3.0, 1.5)), (0.0, Guidance(2.0, 3.0)), (5.0, Guidance(2.0, 3.0)),
             (10.0, Guidance(2.0, 3.0))),
}
"""Per channel type, (SINR dB, guidance): the best of a grid at K = 20, SNR 20 dB, 256 training
images (docs/icdm.md); beyond the ends the end values hold. For K >= TABLE_MIN_STEPS."""

TABLE_MIN_STEPS = 20
"""GUIDANCE_TABLES hold from 20 steps; fewer use FEW_STEP_TABLES."""

FEW_STEP_TABLES = {
    "rayleigh": ((-5.0, Guidance(2.5, 1.5, 0.3)), (0.0, Guidance(2.0, 1.5, 0.3)), (5.0, Guidance(2.0, 2.0, 0.3)),
                 (10.0, Guidance(1.5, 3.0, 0.3))),
    "awgn": ((-5.0, Guidance()), (10.0, Guidance())),
}
"""As GUIDANCE_TABLES, tuned at K = 10 (same images): with every step corrected, guidance above
~1.5 diverges; without the corrector in the noisy half (alpha_bar <= 0.3) strong guidance holds
again and wins over Rayleigh (1.3 to 2.4 dB), not over AWGN, where (1, 1) corrected throughout
stays best."""


def guidance_for_sinr(sinr_db: float, channel: str = "rayleigh", steps: int = TABLE_MIN_STEPS) -> Guidance:
    """The channel's table entry (GUIDANCE_TABLES from TABLE_MIN_STEPS steps, FEW_STEP_TABLES
    below) interpolated linearly in SINR (dB); the corrector setting of the nearest entry."""
    if channel not in GUIDANCE_TABLES:
        raise ConfigError(f"ICDM guidance: channel {channel!r}; expected one of {', '.join(GUIDANCE_TABLES)}")
    table = (GUIDANCE_TABLES if steps >= TABLE_MIN_STEPS else FEW_STEP_TABLES)[channel]
    points = [p for p, _ in table]
    nearest = table[int(np.argmin(np.abs(np.array(points) - sinr_db)))][1]
    return Guidance(float(np.interp(sinr_db, points, [g.signal for _, g in table])),
                    float(np.interp(sinr_db, points, [g.interference for _, g in table])), nearest.corrector_from)


def complex_multiply(c: torch.Tensor, v: torch.Tensor, conjugate: bool = False) -> torch.Tensor:
    """Per-symbol complex product c * v (or conj(c) * v) of two latents ``[B, C, H, W]`` in the
    layout of models.symbols (real parts on channels 0..C/2-1, imaginary parts on the rest);
    real arithmetic only, so that it exports to ONNX."""
    c_re, c_im = c.chunk(2, dim=1)
    v_re, v_im = v.chunk(2, dim=1)
    if conjugate:
        c_im = -c_im
    return torch.cat([c_re * v_re - c_im * v_im, c_re * v_im + c_im * v_re], dim=1)


def interference_power(cross: torch.Tensor) -> torch.Tensor:
    """|W_z|^2 per symbol ``[B, C, H, W]`` (on both of a symbol's channels) from ``cross`` in the
    latent layout of models.symbols."""
    cross_re, cross_im = cross.chunk(2, dim=1)
    return (cross_re.square() + cross_im.square()).repeat(1, 2, 1, 1)


def icdm_separate(prior_x: torch.nn.Module, prior_z: torch.nn.Module, y: torch.Tensor, gain: torch.Tensor,
                  thermal_var: torch.Tensor, cross: torch.Tensor, t: torch.Tensor, alpha: torch.Tensor,
                  x_start: torch.Tensor, z_start: torch.Tensor, guidance: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """The joint sampler, tensors only (it unrolls into an ONNX graph for a fixed K).

    y, gain, thermal_var, cross: ``[B, C, H, W]`` as in ``InterferedObservation``; t, alpha:
    the grid's steps and alpha_bar values ``[K]`` (decreasing t); x_start, z_start: the chains'
    start ``[B, C, H, W]``; guidance: (Lambda, beta, corrector_from) ``[3]`` (``Guidance``).
    Returns the (wanted, interference) latent estimates, encoder units.
    """
    weight_x, weight_z, corrector_from = guidance[0], guidance[1], guidance[2]
    fold = prior_x.fold  # the chains run on the priors' folded latents (models.denoiser; one patch size)
    y, gain, thermal_var, cross, x_start, z_start = (fold(v) for v in (y, gain, thermal_var, cross, x_start, z_start))
    y = y * 2 ** 0.5  # unit variance per real dimension
    spread = gain.square() + interference_power(cross)  # W_x^2 + |W_z|^2

    def guided(x_t, z_t, k):
        a, s = alpha[k].sqrt(), (1 - alpha[k]).sqrt()
        eps_x, eps_z = prior_x.folded(x_t, t[k].expand(x_t.shape[0])), prior_z.folded(z_t, t[k].expand(z_t.shape[0]))
        residual = y - gain * (x_t - s * eps_x) / a - complex_multiply(cross, (z_t - s * eps_z) / a)
        scaled = a * s * residual / (thermal_var + s.square() * spread)
        return (eps_x - weight_x * gain * scaled,
                eps_z - weight_z * complex_multiply(cross, scaled, conjugate=True))

    x, z = x_start, z_start
    eps_x, eps_z = guided(x, z, 0)
    for k in range(1, t.shape[0]):
        x_pred, z_pred = ddim_step(x, eps_x, alpha[k - 1], alpha[k]), ddim_step(z, eps_z, alpha[k - 1], alpha[k])
        new_x, new_z = guided(x_pred, z_pred, k)
        correct = (alpha[k] > corrector_from).to(x.dtype)  # 1: UniC, 0: the DDIM prediction as it is
        x = x_pred + correct * (corrected_step(x, eps_x, new_x, alpha[k - 1], alpha[k]) - x_pred)
        z = z_pred + correct * (corrected_step(z, eps_z, new_z, alpha[k - 1], alpha[k]) - z_pred)
        eps_x, eps_z = new_x, new_z
    a, s = alpha[-1].sqrt(), (1 - alpha[-1]).sqrt()
    return prior_x.unfold((x - s * eps_x) / a) / 2 ** 0.5, prior_x.unfold((z - s * eps_z) / a) / 2 ** 0.5


class GaussianPrior(torch.nn.Module):
    """The exact noise prediction for a unit-variance Gaussian latent, E[eps | x_t] = sqrt(1 - a_t) x_t:
    a prior with nothing learned (the tests' reference, and ICDM's one-learned-prior ablation).
    It works on the latent as it is (no patches folded, models.denoiser)."""

    config = DenoiserConfig()

    def __init__(self, schedule: NoiseSchedule | None = None):
        super().__init__()
        alphas = (schedule or NoiseSchedule()).alphas_cumprod
        self.register_buffer("alphas", torch.as_tensor(alphas, dtype=torch.float32), persistent=False)

    def fold(self, latent: torch.Tensor) -> torch.Tensor:
        return latent

    unfold = fold

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return (1 - self.alphas[t.long()]).sqrt().view(-1, 1, 1, 1) * x_t

    folded = forward


class ICDMDecoder(JSCCDecoder):
    """ICDM's decoder, trained with ICDM in the loop (``diffair train icdm-decoder``,
    models.training.icdm_decoder): the deep-JSCC decoder reading ICDM's wanted-latent estimate
    beside the equalized symbols y it came from, with the per-symbol SINR map, so that it learns
    the sampler's residual errors and never has less to go on than the interference-aware
    baseline ``jscc-interf``. Training starts from that baseline's weights (``from_baseline``;
    the AWGN decoder) or from the paper's decoder (``from_codec``; the Rayleigh one).

    latent, y, sinr_db: ``[B, C, h, w]`` -> image ``[B, 3, 4h, 4w]``."""

    def __init__(self, config: JSCCConfig):
        super().__init__(config, latents=2)

    def forward(self, latent: torch.Tensor, y: torch.Tensor, sinr_db: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.cat([latent, y], dim=1), sinr_db)

    @classmethod
    def from_baseline(cls, baseline: JSCCDecoder) -> "ICDMDecoder":
        """A decoder that computes exactly what ``baseline`` (a decoder of y and the SINR map)
        does: its weights, and zero weights on the ICDM latent's input channels."""
        decoder = cls(baseline.config)
        state = baseline.state_dict()
        first = state["layers.0.weight"]  # ConvTranspose2d: [inputs, outputs, 5, 5]
        state["layers.0.weight"] = torch.cat([torch.zeros_like(first[:baseline.config.channels]), first])
        decoder.load_state_dict(state)
        return decoder

    @classmethod
    def from_codec(cls, codec_decoder: JSCCDecoder) -> "ICDMDecoder":
        """A decoder that computes what the paper's decoder (``codec_decoder``, a decoder of a
        latent and an SNR map) does on ICDM's estimate: its weights, and zero weights on y."""
        decoder = cls(codec_decoder.config)
        state = codec_decoder.state_dict()
        first, c = state["layers.0.weight"], codec_decoder.config.channels  # [latent, SNR map] inputs
        state["layers.0.weight"] = torch.cat([first[:c], torch.zeros_like(first[:c]), first[c:]])
        decoder.load_state_dict(state)
        return decoder


class ICDMGraph(torch.nn.Module):
    """ICDM's joint sampler (K evaluations per prior, unrolled) and the decoder; the grid t,
    alpha ``[K]``, the chains' start and the guidance are inputs. An ``ICDMDecoder`` reads the
    wanted latent estimate, y and the per-symbol SINR g^2 / (var(w) + |W_z|^2); the paper's
    decoder (a plain ``JSCCDecoder``: icdm-rt, the ablations) reads the estimate with the SNR
    against the noise alone, g^2 / var(w) (the interference taken as cancelled; measured better
    than telling it the SINR: +1.3 dB PSNR at SINR 0 dB, docs/icdm.md)."""

    inputs = ("y", "gain", "thermal_var", "cross", "t", "alpha", "x_start", "z_start", "guidance")
    outputs = ("image", "latent")
    batch_inputs = ("y", "gain", "thermal_var", "cross", "x_start", "z_start")

    def __init__(self, prior_x: torch.nn.Module, prior_z: torch.nn.Module, decoder: torch.nn.Module):
        super().__init__()
        self.prior_x, self.prior_z, self.decoder = prior_x, prior_z, decoder

    def forward(self, y, gain, thermal_var, cross, t, alpha, x_start, z_start, guidance):
        latent, _ = icdm_separate(self.prior_x, self.prior_z, y, gain, thermal_var, cross, t, alpha, x_start, z_start,
                                  guidance)
        if isinstance(self.decoder, ICDMDecoder):
            return self.decoder(latent, y, snr_map_db(gain, thermal_var + interference_power(cross))), latent
        return self.decoder(latent, snr_map_db(gain, thermal_var)), latent


class ICDMReceiver(Receiver):
    """Two priors sampled jointly, then a decoder: ``ICDMDecoder`` (trained with ICDM in the
    loop) or the paper's, the wanted user's deep-JSCC decoder.

    prior_x / prior_z: ``LatentPrior`` networks of the wanted and the interfering codec's
    latents; steps: evaluations per prior (the paper: 40); guidance: a fixed ``Guidance``, or
    None for the ``channel``'s table entry at the observation's SINR (``guidance_for_sinr``).
    """

    name = "icdm"
    observation = InterferedObservation

    def __init__(self, prior_x: torch.nn.Module, prior_z: torch.nn.Module, decoder: JSCCDecoder | ICDMDecoder,
                 schedule: NoiseSchedule | None = None, steps: int = 20, guidance: Guidance | None = None,
                 start: str = "zeros", seed: int = 0, channel: str = "rayleigh"):
        super().__init__()
        if start not in ("zeros", "noise"):
            raise ConfigError(f"ICDM start = {start!r}; expected 'zeros' or 'noise'")
        if prior_x.config.patch != prior_z.config.patch:
            raise ConfigError(f"ICDM priors fold latents in patches of {prior_x.config.patch} and "
                              f"{prior_z.config.patch}: the joint sampler needs one patch size")
        self.prior_x, self.prior_z, self.decoder = prior_x, prior_z, decoder
        self.schedule = schedule or NoiseSchedule()
        self.steps, self.guidance, self.start, self.seed, self.channel = steps, guidance, start, seed, channel

    def grid(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The visited steps and their alpha_bar, float32 ``[K]`` each (the same at every SNR)."""
        steps = lambda_grid(self.schedule, self.steps)
        return (torch.as_tensor(steps, dtype=torch.float32),
                torch.as_tensor(self.schedule.alphas_cumprod[steps], dtype=torch.float32))

    def inputs(self, obs: InterferedObservation) -> dict[str, torch.Tensor]:
        """The sampler's inputs for ``obs``, by ``ICDMGraph.inputs`` name: the observation, the
        step grid, the two starting points and the guidance."""
        self.check(obs)
        if self.steps < MIN_VALIDATED_STEPS:
            warnings.warn(f"ICDM with {self.steps} steps per prior: below {MIN_VALIDATED_STEPS} the sampler diverges "
                          "(docs/icdm.md); use --steps 10 or more", stacklevel=3)
        lo, hi = VALIDATED_SINR_DB
        if not lo <= obs.sinr_db <= hi:
            warnings.warn(f"ICDM at SINR {obs.sinr_db:g} dB: outside the validated range {lo:g} to {hi:g} dB",
                          stacklevel=3)
        if self.start == "zeros":
            x, z = torch.zeros_like(obs.y), torch.zeros_like(obs.y)
        else:
            generator = torch.Generator().manual_seed(self.seed)
            x, z = (torch.randn(obs.y.shape, generator=generator) for _ in range(2))
        guidance = self.guidance or guidance_for_sinr(obs.sinr_db, self.channel, self.steps)
        t, alpha = self.grid()
        return {"y": obs.y, "gain": obs.gain, "thermal_var": obs.thermal_var, "cross": obs.cross, "t": t,
                "alpha": alpha, "x_start": x, "z_start": z,
                "guidance": guidance.tensor()}

    def separate(self, obs: InterferedObservation) -> tuple[torch.Tensor, torch.Tensor]:
        """Estimates of the wanted and the interfering latent, encoder units ``[B, C, H, W]``."""
        return icdm_separate(self.prior_x, self.prior_z, **self.inputs(obs))

    def denoise(self, obs: InterferedObservation) -> torch.Tensor:
        """The wanted latent estimate (encoder units) ``[B, C, H, W]``."""
        return self.separate(obs)[0]

    def check(self, obs) -> None:
        if not isinstance(obs, InterferedObservation):
            raise ConfigError("receiver 'icdm' needs a link with a synchronous interferer (its coefficient W_z per "
                              "symbol): `diffair loopback --sir-db ...` or `diffair sweep --sinr-db ...`")

    def graph(self) -> torch.nn.Module:
        return ICDMGraph(self.prior_x, self.prior_z, self.decoder)

    def feeds(self, obs: InterferedObservation) -> dict[str, torch.Tensor]:
        return self.inputs(obs)

    def network_calls(self, snr_db: float) -> int:
        return 2 * self.steps + 1

    def configs(self) -> dict:
        return {"jscc": self.decoder.config, "denoiser": self.prior_x.config}


PRIORS = ("icdm_prior_animals", "icdm_prior_vehicles")
"""The diffusion priors of the wanted (animals) and the interfering (vehicles) latents."""


def decoder_name(channel: str) -> str:
    """The weights stem of ICDM's decoder trained in the loop (``ICDMDecoder``) for ``channel``."""
    return f"icdm_decoder_{channel}"


def _weights(suffix: str = ""):
    """The codecs, the priors (``suffix`` REALTIME_SUFFIX: the real-time priors) and, for the
    full receiver, its decoder trained in the loop (icdm-rt decodes with the paper's: the codec's)."""
    def names(link) -> tuple[str, ...]:
        own_decoder = () if suffix else (decoder_name(link.channel),)
        return (link.codec, ICDM_INTERFERER_CODEC, *(name + suffix for name in PRIORS), *own_decoder)

    return names


def _loader(suffix: str = ""):
    def load(request: LoadRequest) -> ICDMReceiver:
        prior_x, prior_z = (request.weights.load(LatentPrior, DenoiserConfig, name + suffix) for name in PRIORS)
        if suffix:
            decoder = request.weights.load(DeepJSCC, JSCCConfig, request.link.codec).decoder
        else:
            decoder = request.weights.load(ICDMDecoder, JSCCConfig, decoder_name(request.link.channel))
        return ICDMReceiver(prior_x, prior_z, decoder, steps=request.steps or 40, channel=request.link.channel).eval()

    return load


SPEC = ReceiverSpec(
    name="icdm", description="ICDM (Wu et al. 2025): two diffusion priors separate the wanted latent from a "
                             "synchronous interferer's; a decoder trained with them in the loop",
    transmitter="jscc", weights=_weights(), load=_loader(), scenarios=("interference",), default_steps=10)
RT_SPEC = ReceiverSpec(
    name="icdm-rt", description="ICDM with the real-time priors (width 16, 2 x 2 patches)",
    transmitter="jscc", weights=_weights(REALTIME_SUFFIX), load=_loader(REALTIME_SUFFIX), scenarios=("interference",),
    default_steps=10, variant_of="icdm")
