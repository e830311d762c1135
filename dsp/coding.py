"""Header protection: CRC-32, the K = 7 rate-1/2 convolutional code (802.11 generators
133/171 octal) with a batched soft-decision Viterbi decoder, and a block interleaver.

All bit arrays are uint8 0/1; soft inputs are LLRs (float32, positive means bit 0).
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np

CONSTRAINT_LENGTH = 7
GENERATORS = (0o133, 0o171)
TAIL_BITS = CONSTRAINT_LENGTH - 1
_STATES = 1 << TAIL_BITS


def crc32_bits(bits: np.ndarray) -> np.ndarray:
    """CRC-32 (zlib polynomial) of a bit array, as 32 bits MSB first."""
    value = zlib.crc32(np.packbits(bits).tobytes())
    return np.unpackbits(np.array([value], ">u4").view(np.uint8))


def _parity(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    for shift in (4, 2, 1):
        x ^= x >> shift
    return x & 1


def _trellis() -> tuple[np.ndarray, np.ndarray]:
    """For state s (last 6 input bits, newest in bit 5) and input b: next state and the
    two output bits. Returns ``next_state [64, 2]`` and ``outputs [64, 2, 2]``."""
    states = np.arange(_STATES)[:, None]
    inputs = np.arange(2)[None, :]
    register = (inputs << TAIL_BITS) | states  # 7 bits: input, then the 6 previous
    outputs = np.stack([_parity(register & g) for g in GENERATORS], axis=-1)
    return (register >> 1), outputs.astype(np.uint8)


NEXT_STATE, OUTPUTS = _trellis()


def conv_encode(bits: np.ndarray) -> np.ndarray:
    """Encode bits ``[L]`` with 6 zero tail bits appended -> coded bits ``[2 (L + 6)]``."""
    state = 0
    coded = np.empty((len(bits) + TAIL_BITS, 2), np.uint8)
    for i, bit in enumerate(np.concatenate([bits, np.zeros(TAIL_BITS, np.uint8)])):
        coded[i] = OUTPUTS[state, bit]
        state = NEXT_STATE[state, bit]
    return coded.reshape(-1)


def _butterfly_signs() -> tuple[np.ndarray, np.ndarray]:
    """Output signs (+1 for bit 0) of the branch from state 2j with input 0, ``[32]`` each.

    Both generators tap the newest and the oldest bit, so the branches from 2j+1, and those
    with input 1, emit the complement: their correlation is the negative of this one.
    """
    out = OUTPUTS[0::2, 0].astype(np.float32)
    return 1 - 2 * out[:, 0], 1 - 2 * out[:, 1]


_SIGN0, _SIGN1 = _butterfly_signs()


def viterbi_decode(llr: np.ndarray) -> np.ndarray:
    """Soft Viterbi for a batch of terminated codewords (vectorized over the batch).

    llr: float ``[F, 2 (L + 6)]`` (positive favours bit 0). Returns bits uint8 ``[F, L]``.
    The add-compare-select runs on the radix-2 butterflies: next states j and j+32 both come
    from states 2j and 2j+1 (inputs 0 and 1).
    """
    llr = np.asarray(llr, np.float32)
    frames, steps = llr.shape[0], llr.shape[1] // 2
    half = _STATES // 2
    pairs = llr.reshape(frames, steps, 2)
    branch = pairs[:, :, :1] * _SIGN0 + pairs[:, :, 1:] * _SIGN1  # [F, steps, 32]
    metric = np.full((frames, _STATES), -1e9, np.float32)
    metric[:, 0] = 0.0
    choice = np.empty((steps, frames, _STATES), bool)
    nxt = np.empty_like(metric)
    for t in range(steps):
        beta = branch[:, t]
        even, odd = metric[:, 0::2], metric[:, 1::2]
        from_even, from_odd = even + beta, odd - beta
        np.greater(from_odd, from_even, out=choice[t, :, :half])
        np.maximum(from_even, from_odd, out=nxt[:, :half])
        from_even, from_odd = even - beta, odd + beta
        np.greater(from_odd, from_even, out=choice[t, :, half:])
        np.maximum(from_even, from_odd, out=nxt[:, half:])
        metric, nxt = nxt, metric
    state = np.zeros(frames, np.int64)  # terminated in state 0
    bits = np.empty((frames, steps), np.uint8)
    rows = np.arange(frames)
    for t in range(steps - 1, -1, -1):
        odd = choice[t, rows, state]
        bits[:, t] = state >> (TAIL_BITS - 1)
        state = 2 * (state & (half - 1)) + odd
    return bits[:, :steps - TAIL_BITS]


@lru_cache(maxsize=4)
def _inverse_toeplitz(steps: int) -> np.ndarray:
    """Binary Toeplitz matrix ``[steps, steps]`` multiplying by 1/g0 (see :func:`hard_decode`)."""
    series = _inverse_series(steps)
    toeplitz = np.zeros((steps, steps), np.float32)
    for j in range(steps):
        toeplitz[j, j:] = series[:steps - j]
    return toeplitz


def _inverse_series(length: int) -> np.ndarray:
    """The first ``length`` terms of 1 / g0(D) over GF(2) (g0 has a constant term, so the
    power series exists): u = c0 * (1/g0) recovers the input from the first output stream."""
    g0 = np.array([(GENERATORS[0] >> (TAIL_BITS - i)) & 1 for i in range(CONSTRAINT_LENGTH)], np.uint8)
    inverse = np.zeros(length, np.uint8)
    for t in range(length):
        acc = 1 if t == 0 else 0
        for i in range(1, min(t, TAIL_BITS) + 1):
            acc ^= g0[i] & inverse[t - i]
        inverse[t] = acc
    return inverse


def hard_decode(llr: np.ndarray) -> np.ndarray:
    """Fast path for clean codewords: invert the first output stream algebraically from hard
    decisions, u = c0 * (1/g0), as one binary matrix product. Exact when those decisions are
    error-free; otherwise garbage that a CRC rejects. ``[F, 2 (L+6)]`` -> bits ``[F, L]``."""
    steps = llr.shape[1] // 2
    first = (np.asarray(llr)[:, 0::2] < 0).astype(np.float32)  # hard decisions of c0
    return (np.rint(first @ _inverse_toeplitz(steps)).astype(np.int64) & 1).astype(np.uint8)[:, :steps - TAIL_BITS]


def interleaver(length: int, columns: int) -> np.ndarray:
    """Block-interleaver permutation ``[length]``: write by rows of ``columns``, read by
    columns, so neighbouring coded bits land on carriers far apart."""
    rows = -(-length // columns)
    order = np.arange(rows * columns).reshape(rows, columns).T.reshape(-1)
    return order[order < length]
