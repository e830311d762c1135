"""The deep-JSCC and CDDM receivers (models.contract.Receiver) and their specs.

Each takes a ``LatentObservation`` (the equalized latent and, per real value, its gain and
noise variance, plus the frame SNR) and returns the decoded image and the latent estimate it
decoded from. The network (denoiser), the sampler (models.sampler, no parameters) and the loop
(here) stay apart, so another diffusion receiver reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from diffair.dsp.errors import ConfigError
from diffair.models.contract import ExportGraph, Link, LoadRequest, Receiver, ReceiverSpec
from diffair.models.denoiser import REALTIME_SUFFIX, DenoiserConfig, LatentUNet
from diffair.models.graphs import DecoderGraph, DenoiserGraph
from diffair.models.jscc import DeepJSCC, JSCCConfig, JSCCDecoder
from diffair.models.observation import LatentObservation
from diffair.models.sampler import ddim_step
from diffair.models.schedule import NoiseSchedule
from diffair.models.symbols import snr_map_db


class JSCCReceiver(Receiver):
    """The equalized symbols straight into the deep-JSCC decoder (as their unbiased estimate,
    with the per-symbol SNR map; see ``models.jscc.unbiased``). One network call per image."""

    name = "jscc"
    graph_kind = "decoder"
    graph_class = DecoderGraph

    def __init__(self, decoder: JSCCDecoder):
        super().__init__()
        self.decoder = decoder

    def graph(self) -> torch.nn.Module:
        return self.graph_class(self.decoder)

    def feeds(self, obs: LatentObservation) -> dict[str, torch.Tensor]:
        return {"y": obs.y, "gain": obs.gain, "noise_var": obs.noise_var}

    def network_calls(self, snr_db: float) -> int:
        return 1

    def configs(self) -> dict:
        return {"jscc": self.decoder.config}

    def graph_name(self) -> str:
        return "decoder"


@dataclass
class SamplerPlan:
    """What a K-step sampler needs, all ``[K]``: the steps t, alpha_bar_t and the alpha_bar of
    the next visited step (1.0 after the last, so that step returns x0_hat). Computed on the
    host from the SNR; an exported receiver takes them as graph inputs."""

    t: np.ndarray
    alpha_t: np.ndarray
    alpha_next: np.ndarray

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return tuple(torch.as_tensor(a, dtype=torch.float32) for a in (self.t, self.alpha_t, self.alpha_next))

    def padded(self, count: int) -> "SamplerPlan":
        """The same plan stretched to ``count`` steps by repeating the first one; a DDIM step
        from t to t changes nothing, so a fixed-K graph serves every SNR."""
        extra = count - len(self.t)
        if extra < 0:
            raise ConfigError(f"plan of {len(self.t)} steps does not fit {count}")
        pad = lambda a, v: np.concatenate([np.full(extra, v), a])  # noqa: E731
        return SamplerPlan(pad(self.t, self.t[0]), pad(self.alpha_t, self.alpha_t[0]),
                           pad(self.alpha_next, self.alpha_t[0]))


def sampler_plan(schedule: NoiseSchedule, snr_db: float, steps: int | None) -> SamplerPlan:
    """CDDM's visit list from the SNR-matched start step (``steps`` None: all of them)."""
    visit = schedule.timesteps(schedule.start_step(snr_db), steps)
    alphas = schedule.alphas_cumprod
    nxt = np.concatenate([alphas[visit[1:]], [1.0]])
    return SamplerPlan(visit.astype(np.float32), alphas[visit].astype(np.float32), nxt.astype(np.float32))


def cddm_denoise(denoiser: torch.nn.Module, y: torch.Tensor, gain: torch.Tensor, noise_var: torch.Tensor,
                 sigma: torch.Tensor, t: torch.Tensor, alpha_t: torch.Tensor, alpha_next: torch.Tensor
                 ) -> torch.Tensor:
    """The CDDM loop, tensors only (so it unrolls into an ONNX graph for a fixed K).

    y, gain, noise_var: ``[B, C, H, W]``; sigma: the frames' noise level ``[B]``; t, alpha_t,
    alpha_next: a ``SamplerPlan`` ``[K]``. Returns the latent estimate in encoder units.
    """
    fold = denoiser.fold  # the loop runs on the denoiser's folded latents (models.denoiser)
    w_n, gain = fold(noise_var.sqrt() / sigma.view(-1, 1, 1, 1)), fold(gain)
    x = alpha_t[0].sqrt() * (2 ** 0.5) * fold(y)
    for k in range(t.shape[0]):
        eps_hat = w_n * denoiser.folded(x, t[k].expand(x.shape[0]), gain, w_n)
        x = ddim_step(x, eps_hat, alpha_t[k], alpha_next[k])
    return denoiser.unfold(x) / (2 ** 0.5)


class CDDMGraph(torch.nn.Module):
    """The whole K-step CDDM receiver (sampler unrolled, then the decoder); the SNR-dependent
    quantities are inputs: sigma ``[B]`` and the sampler plan t, alpha_t, alpha_next ``[K]``
    (``SamplerPlan``), so one graph serves every SNR."""

    inputs = ("y", "gain", "noise_var", "sigma", "t", "alpha_t", "alpha_next")
    outputs = ("image", "latent")
    batch_inputs = ("y", "gain", "noise_var", "sigma")

    def __init__(self, denoiser: torch.nn.Module, decoder: torch.nn.Module):
        super().__init__()
        self.denoiser = denoiser
        self.decoder = decoder

    def forward(self, y, gain, noise_var, sigma, t, alpha_t, alpha_next):
        latent = cddm_denoise(self.denoiser, y, gain, noise_var, sigma, t, alpha_t, alpha_next)
        return self.decoder(latent, snr_map_db(gain, noise_var)), latent


class CDDMReceiver(Receiver):
    """CDDM (Wu et al., IEEE TWC 2024): channel-denoising diffusion on the equalized latent,
    then the decoder re-trained on its output.

    steps: None for the paper's consecutive DDIM from the SNR-matched step m down to 0
    (m + 1 network evaluations), or K for a respaced sampler of K evaluations from m.
    """

    name = "cddm"
    observation = LatentObservation

    def __init__(self, denoiser: torch.nn.Module, decoder: JSCCDecoder, schedule: NoiseSchedule | None = None,
                 steps: int | None = 10):
        super().__init__()
        self.denoiser = denoiser
        self.decoder = decoder
        self.schedule = schedule or NoiseSchedule()
        self.steps = steps

    def plan(self, snr_db: float) -> SamplerPlan:
        """The steps and schedule values this receiver visits at ``snr_db``."""
        return sampler_plan(self.schedule, snr_db, self.steps)

    def graph(self) -> torch.nn.Module:
        return CDDMGraph(self.denoiser, self.decoder)

    def feeds(self, obs: LatentObservation) -> dict[str, torch.Tensor]:
        t, alpha_t, alpha_next = self.plan(obs.snr_db).tensors()
        sigma = torch.full((len(obs.y),), 10 ** (-obs.snr_db / 20))
        return {"y": obs.y, "gain": obs.gain, "noise_var": obs.noise_var, "sigma": sigma, "t": t,
                "alpha_t": alpha_t, "alpha_next": alpha_next}

    def network_calls(self, snr_db: float) -> int:
        return len(self.plan(snr_db).t) + 1

    def configs(self) -> dict:
        return {"jscc": self.decoder.config, "denoiser": self.denoiser.config}

    def denoise(self, obs: LatentObservation) -> torch.Tensor:
        """The latent estimate (encoder units, an estimate of W_s z) ``[B, C, H, W]``."""
        return self.decode(obs).latent

    def export_graphs(self, latent_shape) -> list[ExportGraph]:
        """The decoder and one denoiser evaluation on their own, then the whole receiver."""
        whole = super().export_graphs(latent_shape)[0]

        def denoiser_example(side: int, batch: int) -> tuple[torch.Tensor, ...]:
            y, gain, noise_var = whole.example(side, batch)[:3]
            return y, torch.full((batch,), 50.0), gain, noise_var.sqrt() * 3

        return [ExportGraph("decoder", "decoder", DecoderGraph(self.decoder), {"jscc": self.decoder.config},
                            lambda side, batch: whole.example(side, batch)[:3]),
                ExportGraph("denoiser", "denoiser", DenoiserGraph(self.denoiser), {"denoiser": self.denoiser.config},
                            denoiser_example),
                ExportGraph(f"cddm_k{self.steps}", "cddm", whole.graph, whole.configs, whole.example, self.steps)]


def _jscc_weights(link: Link) -> tuple[str, ...]:
    return (link.codec,)


def _load_jscc(request: LoadRequest) -> JSCCReceiver:
    return JSCCReceiver(request.weights.load(DeepJSCC, JSCCConfig, request.link.codec).decoder).eval()


def _cddm_weights(suffix: str = ""):
    """The weights of CDDM's stages 2 and 3 (``suffix`` REALTIME_SUFFIX: the real-time ones)."""
    return lambda link: (f"cddm_denoiser_{link.channel}{suffix}", f"cddm_codec_{link.channel}{suffix}")


def _cddm_loader(suffix: str = ""):
    def load(request: LoadRequest) -> CDDMReceiver:
        denoiser_name, codec_name = _cddm_weights(suffix)(request.link)
        denoiser = request.weights.load(LatentUNet, DenoiserConfig, denoiser_name)
        decoder = request.weights.load(DeepJSCC, JSCCConfig, codec_name).decoder
        return CDDMReceiver(denoiser, decoder, steps=request.steps).eval()

    return load


JSCC_SPEC = ReceiverSpec(
    name="jscc", description="deep JSCC: the codec's decoder on the MMSE-equalized symbols (no diffusion)",
    transmitter="jscc", weights=_jscc_weights, load=_load_jscc, scenarios=("plain", "interference"))
CDDM_SPEC = ReceiverSpec(
    name="cddm", description="CDDM (Wu et al. 2024): channel-denoising diffusion, then its re-trained decoder",
    transmitter="jscc", weights=_cddm_weights(), load=_cddm_loader(), default_steps=10)
CDDM_RT_SPEC = ReceiverSpec(
    name="cddm-rt", description="CDDM with the real-time denoiser (width 32, 2 x 2 patches, one block per level)",
    transmitter="jscc", weights=_cddm_weights(REALTIME_SUFFIX), load=_cddm_loader(REALTIME_SUFFIX),
    default_steps=10, variant_of="cddm")
