"""Deterministic DDIM (eta = 0) for CDDM's channel-weighted forward process. Owns no
parameters: the receiver holds the network and runs the loop.

Forward (CDDM, Wu et al. 2024, eq. for x_t): x_t = sqrt(a_t) W_s x0 + sqrt(1 - a_t) W_n eps.
One step from t to s < t with the network's eps_hat = W_n eps_theta(x_t, t):
    x0_hat = (x_t - sqrt(1 - a_t) eps_hat) / sqrt(a_t)      (an estimate of W_s x0)
    x_s    = sqrt(a_s) x0_hat + sqrt(1 - a_s) eps_hat
and the last step goes to "a_s = 1", which returns x0_hat.
"""

from __future__ import annotations

import torch


def ddim_step(x_t: torch.Tensor, eps_hat: torch.Tensor, alpha_t: torch.Tensor, alpha_s: torch.Tensor
              ) -> torch.Tensor:
    """One deterministic step; ``alpha_*`` are alpha_bar values (tensors broadcastable to x).
    ``alpha_s`` = 1 is the final step: it returns x0_hat."""
    x0_hat = (x_t - torch.sqrt(1 - alpha_t) * eps_hat) / torch.sqrt(alpha_t)
    return torch.sqrt(alpha_s) * x0_hat + torch.sqrt(1 - alpha_s) * eps_hat


def forward_diffuse(x0: torch.Tensor, eps: torch.Tensor, alpha_t: torch.Tensor, w_s: torch.Tensor,
                    w_n: torch.Tensor) -> torch.Tensor:
    """CDDM's channel-weighted forward process at alpha_bar_t (training targets)."""
    return torch.sqrt(alpha_t) * w_s * x0 + torch.sqrt(1 - alpha_t) * w_n * eps


def half_log_snr(alpha: torch.Tensor) -> torch.Tensor:
    """lambda = log(sqrt(a) / sqrt(1 - a)) for alpha_bar ``a``: the time variable of DPM-Solver
    and UniPC."""
    return 0.5 * torch.log(alpha / (1 - alpha))


def corrected_step(x_s: torch.Tensor, eps_s: torch.Tensor, eps_t: torch.Tensor, alpha_s: torch.Tensor,
                   alpha_t: torch.Tensor) -> torch.Tensor:
    """The second-order corrector of a DDIM step from s to t (UniC of UniPC, Zhao et al. 2023,
    in its noise-prediction form): with eps linear in lambda between its values at s and at the
    predicted point t,

        x_t = DDIM(x_s, eps_s) - sigma_t * ((e^h - 1 - h) / h) * (eps_t - eps_s),  h = lambda_t - lambda_s,

    the exact integral of the noise-prediction ODE x_t / a_t = x_s / a_s - int e^(-lambda) eps dlambda
    for that interpolation. ``eps_t`` is the network's output at the predicted x_t, which the next
    step reuses, so the corrector costs no extra evaluation."""
    h = half_log_snr(alpha_t) - half_log_snr(alpha_s)
    phi = (torch.exp(h) - 1 - h) / h  # (expm1 has no ONNX operator)
    return ddim_step(x_s, eps_s, alpha_s, alpha_t) - torch.sqrt(1 - alpha_t) * phi * (eps_t - eps_s)
