"""``diffair loopback``: an image through the whole chain, once per receiver.

encoder -> packetizer -> OFDM PHY -> loopback channel -> sync / estimation / MMSE -> receiver
(jscc: straight to the decoder; cddm: channel denoising, then its decoder) -> image.
With ``genie`` the PHY is replaced by the symbol-level channel with perfect CSI. With
``sir_db`` a second transmitter (radio.interferer) shares the air, of one of two kinds:

* ``async``: unsynchronized (its own fading, timing, sample-rate and frequency offset, seeded
  CN(0, 1) test symbols in frames of the same format); the PHY reports the SINR (LTF) and the
  SNR (guard carriers) apart, and the receivers see the interference as noise.
* ``sync``: ICDM's scenario, a frame-synchronous transmitter of another image through its own
  codec (``jscc_vehicles_c16``) and its own fading; the frames carry sounding symbols, the PHY
  estimates both channels, and the receivers jscc, lmmse and icdm get W_x, W_z per symbol.

``auto`` (the default) picks ``sync`` when a receiver needs W_z (icdm, lmmse) or none is named.
"""

from __future__ import annotations

import dataclasses
import json
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from diffair.dsp.errors import ConfigError
from diffair.dsp.frame import SOUNDING_SYMBOLS, FrameFormat
from diffair.dsp.header import PayloadKind
from diffair.dsp.packetizer import Reassembler
from diffair.dsp.receiver import OfdmReceiver
from diffair.dsp.units import complex_gaussian
from diffair.export.receiver_runner import ReceiverRunner
from diffair.models import registry
from diffair.models.channels import EqualizedSymbols, transmit
from diffair.models.data import load_image, to_tensor_batch
from diffair.models.interference import InterferedSymbols, interference_amplitude, sinr_of
from diffair.models.observation import InterferedObservation, LatentObservation
from diffair.models.provenance import provenance, weights_used
from diffair.models.symbols import latent_to_symbols
from diffair.radio.channel import ChannelConfig
from diffair.radio.interferer import Interferer, SynchronousInterferer
from diffair.radio.loopback import LoopbackRadio
from diffair.testbed.baselines import versus_best_baseline
from diffair.testbed.images import builtin_image, crop_images, interferer_image, pad_images, save_png
from diffair.testbed.metrics import image_metrics, latent_mse_db
from diffair.testbed.rxtx import interferer_payload
from diffair.testbed.session import channel_for, frame_bursts, sounding_bursts


@dataclass(frozen=True)
class LoopbackOptions:
    """One ``diffair loopback`` run; ``steps``: the diffusion receivers' K (None: each one's
    default, registry.FULL: the full sampler); ``switch``: let switch tables hand frames to a
    baseline (models.switching)."""

    image: Path | None = None
    snr_db: float = 10.0
    channel: str = "awgn"
    cfo_hz: float = 10e3
    receivers: tuple[str, ...] = ()
    steps: int | str | None = None
    genie: bool = False
    seed: int = 0
    out: Path = Path("reports/loopback")
    weights: Path = registry.WEIGHTS_DIR
    fft_size: int = 64
    backend: str = "torch"
    sir_db: float | None = None
    interferer: str = "auto"
    interferer_image: Path | None = None
    interferer_cfo_hz: float | None = None
    sounding_symbols: int = SOUNDING_SYMBOLS
    switch: bool = True
    lpips: Path | None = None


INTERFERER_KINDS = ("auto", "sync", "async")


def needs_interferer(names) -> list[str]:
    """Those of ``names`` that serve only ICDM's scenario: they need the interferer's
    coefficient W_z, hence a synchronous interferer."""
    return [n for n in names if "plain" not in registry.spec(n).scenarios]


def interferer_kind(options: LoopbackOptions) -> str | None:
    """"sync", "async" or None (no interferer) for a run; refuses contradictory options."""
    if options.interferer not in INTERFERER_KINDS:
        raise ConfigError(f"--interferer {options.interferer!r}; expected one of {', '.join(INTERFERER_KINDS)}")
    if options.sir_db is None:
        if options.interferer != "auto" or options.interferer_image is not None:
            raise ConfigError("--interferer / --interferer-image set without --sir-db: give the interferer's "
                              "signal-to-interference ratio")
        return None
    if options.genie:
        raise ConfigError("loopback: --sir-db needs the PHY (the interferer is a second radio transmitter); drop "
                          "--genie, or use `diffair sweep --sinr-db ... --genie` for the symbol-level channel")
    needs_cross = needs_interferer(options.receivers)
    kind = options.interferer
    if kind == "auto":
        kind = "sync" if needs_cross or not options.receivers else "async"
    if kind == "sync" and not 1 <= options.sounding_symbols <= 4:
        raise ConfigError(f"--sounding-symbols {options.sounding_symbols}: the synchronous interferer needs 1 to 4")
    if kind == "async" and needs_cross:
        raise ConfigError(f"receiver(s) {', '.join(needs_cross)} need the interferer's channel, which only a "
                          "synchronous interferer lets the PHY estimate: use --interferer sync")
    return kind


INTERFERER_FRAMES = 16
"""The interferer repeats a payload of this many frames of test symbols."""


def loopback_interferer(fmt: FrameFormat, channel: ChannelConfig, sir_db: float, cfo_hz: float, payload_id: int,
                        seed: int) -> Interferer:
    """A second transmitter of the same frame format: its own Rayleigh block fading when the
    wanted link fades, its own timing (random gaps up to one OFDM symbol, 20 ppm sample-rate
    offset) and carrier offset ``cfo_hz``, a transmit filter at the used band's edge + 1.5
    carriers, payload id ``payload_id``."""
    symbols = complex_gaussian(np.random.default_rng(seed + 7919), INTERFERER_FRAMES * fmt.payload_capacity)
    path = ChannelConfig(sample_rate_hz=fmt.sample_rate_hz, fading=channel.fading,
                         rms_delay_samples=channel.rms_delay_samples, max_delay_samples=channel.max_delay_samples,
                         cfo_hz=cfo_hz, sro_ppm=20.0, gap_samples=(0, fmt.fft_size))
    return Interferer(list(frame_bursts(symbols, payload_id, fmt, 0)), path, sir_db, channel.signal_power,
                      seed=seed + 1, passband=(2 * fmt.used_half_width + 3) / fmt.fft_size)


def sir_for_sinr(snr_db: float, sinr_db: float) -> float:
    """The signal-to-interference ratio that, with the SNR, makes the SINR (powers add)."""
    return float(-20 * np.log10(interference_amplitude(snr_db, sinr_db))) if sinr_db < snr_db else 60.0


def through_phy(symbols: np.ndarray, snr_db: float, channel_type: str, cfo_hz: float, seed: int, fmt: FrameFormat,
                sir_db: float | None = None, interferer_cfo_hz: float | None = None,
                interferer_symbols: np.ndarray | None = None, sounding_symbols: int = SOUNDING_SYMBOLS,
                monitor=None) -> tuple[EqualizedSymbols | InterferedSymbols, dict]:
    """One payload of complex symbols ``[K]`` through packetizer, PHY and loopback channel;
    returns the per-symbol statistics ``[1, K]`` (erasures where frames were lost) and the
    link figures (frames, SINR / SNR / CFO estimates, stage latencies).

    With ``sir_db``, a second transmitter shares the air: unsynchronized, sending test
    symbols at its own carrier offset ``interferer_cfo_hz`` (default -12 kHz), or, given its
    payload ``interferer_symbols`` ``[K]``, frame-synchronous (ICDM's interferer: frames with
    ``sounding_symbols`` sounding symbols, carrier offset ``interferer_cfo_hz`` from the wanted
    transmitter's, default 0), and then the statistics are ``InterferedSymbols`` with its
    per-symbol coefficient W_z. ``monitor`` (testbed.monitor.MonitorState) is shown the stream
    and the frames."""
    synchronous = interferer_symbols is not None
    if synchronous and sir_db is None:
        raise ConfigError("through_phy: interferer_symbols given without sir_db")
    if synchronous:
        fmt = dataclasses.replace(fmt, sounding_symbols=sounding_symbols)
    channel = channel_for(
        fmt, snr_db, fading="rayleigh" if channel_type == "rayleigh" else "none",
        rms_delay_samples=fmt.cp_len / 8, max_delay_samples=fmt.cp_len // 2, cfo_hz=cfo_hz,
        gap_samples=(fmt.fft_size, 10 * fmt.fft_size))
    timings = {}
    payload_id = seed % 65535 + 1
    started = time.perf_counter()
    bursts = list(frame_bursts(symbols, payload_id, fmt, 0, PayloadKind.JSCC_LATENT))
    timings["phy_tx_ms"] = 1e3 * (time.perf_counter() - started)
    if sir_db is None:
        interferer = None
    elif synchronous:
        path = ChannelConfig(sample_rate_hz=fmt.sample_rate_hz, fading=channel.fading,
                             rms_delay_samples=channel.rms_delay_samples, max_delay_samples=channel.max_delay_samples)
        interferer = SynchronousInterferer(sounding_bursts(interferer_symbols, fmt), path, sir_db,
                                           interferer_cfo_hz or 0.0, seed + 1)
    else:
        interferer = loopback_interferer(fmt, channel, sir_db, -12e3 if interferer_cfo_hz is None else interferer_cfo_hz,
                                         payload_id % 65535 + 1, seed)
    with LoopbackRadio(channel, seed=seed, interferer=interferer) as radio:
        started = time.perf_counter()
        for burst in bursts:
            radio.send(burst)
        stream = radio.receive(radio.pending + 2 * fmt.frame_len)
        timings["channel_ms"] = 1e3 * (time.perf_counter() - started)
    started = time.perf_counter()
    receiver, reassembler = OfdmReceiver(fmt), Reassembler(fmt)
    frames = [f for f in receiver.process(stream) + receiver.flush() if f.header.payload_id == payload_id]
    if monitor is not None:
        monitor.attach(receiver.stats)
        monitor.on_samples(stream)
        monitor.on_frames(frames)
    payloads = [p for f in frames if (p := reassembler.add(f))] + reassembler.flush()
    timings["phy_rx_ms"] = 1e3 * (time.perf_counter() - started)
    frames_sent = len(bursts)
    if not payloads:
        erased = EqualizedSymbols(torch.zeros(1, len(symbols), dtype=torch.complex64), torch.zeros(1, len(symbols)),
                                  torch.ones(1, len(symbols)))
        rx = InterferedSymbols(erased, torch.zeros_like(erased.y)) if synchronous else erased
        return rx, {**timings, "frames_sent": frames_sent, "frames_ok": 0, "erased_symbols": len(symbols),
                    "snr_db_est": None, "thermal_snr_db_est": None, "sir_db_est": None, "cfo_hz_est": None}
    p = payloads[0]
    rx = EqualizedSymbols(torch.from_numpy(p.y)[None], torch.from_numpy(p.gain)[None],
                          torch.from_numpy(p.noise_var)[None])
    if synchronous:
        rx = InterferedSymbols(rx, torch.from_numpy(p.cross)[None])
    return rx, {**timings, "frames_sent": frames_sent, "frames_ok": p.frames_received,
                "erased_symbols": int(p.erased.sum()), "snr_db_est": p.snr_db, "thermal_snr_db_est": p.thermal_snr_db,
                "sir_db_est": p.sir_db, "cfo_hz_est": p.cfo_hz}


def by_transmitter(names) -> dict[str, list[str]]:
    """Receiver names grouped by the transmitter whose symbols they decode (registry order)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(registry.spec(name).transmitter, []).append(name)
    return groups


def default_receivers(channel: str, scenario: str, weights: Path) -> list[str]:
    """Every receiver of ``scenario`` with weights for ``channel``; refuses when there is none."""
    names = registry.available(channel, scenario, weights)
    if not names:
        raise ConfigError(f"no receiver has weights for {channel} ({scenario} link) in {weights}")
    return names


def run_loopback(options: LoopbackOptions, monitor=None) -> dict:
    """Run the chain; writes the report folder and returns the summary dict. ``monitor``
    (testbed.monitor.MonitorState) is shown the stream, the frames and every decoded image."""
    image = load_image(options.image) if options.image else builtin_image()
    kind = interferer_kind(options)
    scenario = "interference" if kind == "sync" else "plain"
    names = list(options.receivers) or default_receivers(options.channel, scenario, options.weights)
    models = {n: registry.build(n, options.channel, options.steps, options.weights, scenario, switch=options.switch)
              for n in names}
    groups = by_transmitter(names)
    senders = {t: registry.build_transmitter(t, options.channel, options.weights, scenario) for t in groups}
    source = str(options.image or "(built-in)")
    coded = {t: pad_images(image, source, sender.multiple) for t, sender in senders.items()}  # any size goes
    interferer_symbols = None
    if kind == "sync":
        other = interferer_image(options.interferer_image, coded["jscc"].shape)
        interferer_symbols = interferer_payload(other, options.weights)
    receivers = {name: ReceiverRunner(m, options.backend, Path(options.out) / "graphs") for name, m in models.items()}
    fmt = FrameFormat.for_fft(options.fft_size)
    results, outputs, links, observations = {}, {}, [], []
    with torch.no_grad():
        for transmitter, members in groups.items():
            started = time.perf_counter()
            sent, reference = senders[transmitter].encode(to_tensor_batch(coded[transmitter][None]))
            encode_ms = 1e3 * (time.perf_counter() - started)
            symbols = latent_to_symbols(sent)[0].numpy()
            if options.genie:
                generator = torch.Generator().manual_seed(options.seed)
                rx = transmit(torch.from_numpy(symbols)[None], torch.tensor([options.snr_db]), options.channel,
                              generator)
                link = {"frames_sent": 0, "frames_ok": 0, "erased_symbols": 0, "snr_db_est": options.snr_db,
                        "thermal_snr_db_est": options.snr_db, "sir_db_est": None, "cfo_hz_est": None}
            else:
                rx, link = through_phy(symbols, options.snr_db, options.channel, options.cfo_hz, options.seed, fmt,
                                       options.sir_db, options.interferer_cfo_hz, interferer_symbols,
                                       options.sounding_symbols, monitor)
            snr_used = link["snr_db_est"] if link["snr_db_est"] is not None else options.snr_db
            # async: the LTF's estimate already counts the interference; sync: the LTF sees none
            link["sinr_db_est"] = sinr_of(snr_used, link["sir_db_est"]) if kind == "sync" else link["snr_db_est"]
            links.append({**link, "encode_ms": encode_ms, "symbols": int(len(symbols))})
            if kind == "sync":
                obs = InterferedObservation.from_interfered(rx, tuple(sent.shape[1:]), snr_used, link["sinr_db_est"])
            else:
                obs = LatentObservation.from_symbols(rx, tuple(sent.shape[1:]), snr_used)
            observations.append(obs)
            for name in members:
                results[name], outputs[name] = _timed_decode(receivers[name], obs, image, sent, reference,
                                                             image_metrics(options.lpips))
                results[name]["frames_ok"] = link["frames_ok"]
                if monitor is not None:
                    monitor.on_image(name, outputs[name][0], results[name]["psnr_db"])
    for name, comparison in versus_best_baseline({n: r["psnr_db"] for n, r in results.items()}).items():
        results[name] |= comparison
    link = links[0]
    summary = {"receivers": results, "snr_db_true": options.snr_db, "sir_db": options.sir_db, "interferer": kind,
               "sinr_db_true": sinr_of(options.snr_db, options.sir_db), "snr_db_est": link["snr_db_est"],
               "thermal_snr_db_est": link["thermal_snr_db_est"], "sir_db_est": link["sir_db_est"],
               "sinr_db_est": link["sinr_db_est"],
               "cfo_hz_true": options.cfo_hz, "cfo_hz_est": link["cfo_hz_est"], "frames_sent": link["frames_sent"],
               "frames_ok": link["frames_ok"], "erased_symbols": link["erased_symbols"],
               "latency_ms": {k: v for k, v in link.items() if k.endswith("_ms")},
               "channel": options.channel, "genie": options.genie, "image_shape": list(image.shape),
               "symbols": link["symbols"]}
    write_report(options, image, outputs, observations[0], summary)
    return summary


def _timed_decode(receiver: ReceiverRunner, obs: LatentObservation, image: np.ndarray, sent: torch.Tensor,
                  reference: torch.Tensor, metrics: dict) -> tuple[dict, tuple]:
    """One receiver on ``obs``, timed after a warm-up call: its result row (``metrics``: PSNR,
    SSIM, MS-SSIM, VIF, LPIPS where asked; latent MSE, latency, backend, warnings) and (decoded
    image ``[H, W, 3]``, latent or None)."""
    receiver(obs)  # warm-up: the first call pays for allocations (and an ONNX export)
    with warnings.catch_warnings(record=True) as caught:  # e.g. ICDM outside its SINR range
        warnings.simplefilter("always")
        started = time.perf_counter()
        decoded, latent = receiver(obs)
        latency = 1e3 * (time.perf_counter() - started)
    estimate = crop_images(decoded[0].permute(1, 2, 0).clamp(0, 1).numpy(), image.shape[:2])
    row = {**{metric: score(image / 255.0, estimate) for metric, score in metrics.items()},
           "latent_mse_db": latent_mse_db(reference[0].numpy(), latent[0].numpy()), "latency_ms": latency,
           "backend": receiver.backend, "provider": receiver.provider}
    if receiver.switched_to:  # its switch table expects a loss here: the baseline decoded (models.switching)
        row["switched_to"] = receiver.switched_to
    if caught:
        row["warnings"] = sorted({str(w.message) for w in caught})
    return row, (estimate, latent[0].numpy() if sent.shape == latent.shape else None)


def write_report(options: LoopbackOptions, image: np.ndarray, outputs: dict, obs: LatentObservation,
                 summary: dict) -> None:
    """original.png, one PNG per receiver, comparison.png, constellation.png, config.json, summary.json."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    save_png(image, out / "original.png")
    for name, (estimate, _) in outputs.items():
        save_png(estimate, out / f"{name}.png")
    fig, axes = plt.subplots(1, 1 + len(outputs), figsize=(3 * (1 + len(outputs)), 3.3))
    axes = np.atleast_1d(axes)
    axes[0].imshow(image)
    axes[0].set_title("original")
    for ax, (name, (estimate, _)) in zip(axes[1:], outputs.items()):
        r = summary["receivers"][name]
        ax.imshow(estimate)
        ax.set_title(f"{name}: {r['psnr_db']:.2f} dB, SSIM {r['ssim']:.3f}")
    for ax in axes:
        ax.axis("off")
    fig.suptitle(f"{options.channel}, {options.snr_db:g} dB{' (genie)' if options.genie else ''}")
    fig.tight_layout()
    fig.savefig(out / "comparison.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    half = obs.y.shape[1] // 2
    ax.scatter(obs.y[0, :half].flatten(), obs.y[0, half:].flatten(), s=2, alpha=0.4, label="after MMSE")
    for name, (_, latent) in outputs.items():
        if latent is not None and not np.array_equal(latent, obs.y[0].numpy()):  # not the equalized y itself
            ax.scatter(latent[:half].flatten(), latent[half:].flatten(), s=2, alpha=0.4, label=f"after {name}")
    ax.set_xlabel("in-phase")
    ax.set_ylabel("quadrature")
    ax.legend(markerscale=5)
    ax.set_title("latent symbols")
    fig.tight_layout()
    fig.savefig(out / "constellation.png", dpi=120)
    plt.close(fig)
    weights = weights_used(summary["receivers"], options.channel,
                           "interference" if summary["interferer"] == "sync" else "plain", options.weights)
    origin = provenance(options.seed, weights, options.image)
    config = {**{k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()}, **origin}
    summary["provenance"] = origin
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
