"""Numba kernels of the audio watermark: pure functions over arrays, no Python objects inside.

Signal model (all at the internal rate, 16 kHz):
  frames of N=1024 samples (64 ms) every H=512 samples, sqrt-Hann analysis and synthesis window;
  25 bands of 8 FFT bins (bins 20..219, 312-3437 Hz); a *tile* is one band of one frame;
  a *group* is GF consecutive frames; its GF*25 tiles are split (keyed) into projections of NP tiles.
Each projection carries one bit by spread-transform dither modulation (STDM) on tile log-energies:
  p = sum_q u_q * log(E_q + eps) / sqrt(NP),  quantised to the keyed lattice  d + delta*(k + bit/2).
The embedder changes each tile's gain so that p lands on the lattice point (host interference is
rejected, unlike plain spread spectrum); the detector reads p and maps it to a soft bit in [-1, 1].
"""

from __future__ import annotations

import numpy as np
from numba import njit

N = 1024
H = 512
BIN_LO = 20
BAND_W = 8
N_BANDS = 25
REL_FLOOR = 1e-3  # tile energies are floored at -30 dB below the frame's mean band energy (scale-free)
ABS_FLOOR = 4e-7  # mean band energy below this (about -90 dBFS) = digital silence: the frame carries nothing
SILENT = -1000.0


@njit(cache=True, nogil=True)
def floored_log(e, nb, out, o):
    """out[o + b] = log(e[b] + REL_FLOOR * mean(e)) or SILENT for a silent frame."""
    m = 0.0
    for b in range(nb):
        m += e[b]
    m /= nb
    for b in range(nb):
        out[o + b] = np.log(e[b] + REL_FLOOR * m) if m > ABS_FLOOR else SILENT


# ----------------------------------------------------------------------------------------------
# FFT (radix-2, in place). Deterministic: the same input gives bit-identical output whatever the
# chunking of a stream, which the streaming == one-shot guarantee relies on.
# ----------------------------------------------------------------------------------------------
def fft_tables(n: int):
    bits = n.bit_length() - 1
    rev = np.zeros(n, np.int64)
    for i in range(n):
        rev[i] = int(format(i, f"0{bits}b")[::-1], 2)
    k = np.arange(n // 2)
    return rev, np.cos(2 * np.pi * k / n), -np.sin(2 * np.pi * k / n)


@njit(cache=True, nogil=True)
def fft_inplace(re, im, rev, twr, twi, inverse):
    n = re.shape[0]
    for i in range(n):
        j = rev[i]
        if j > i:
            t = re[i]
            re[i] = re[j]
            re[j] = t
            t = im[i]
            im[i] = im[j]
            im[j] = t
    sgn = -1.0 if inverse else 1.0
    size = 2
    while size <= n:
        half = size >> 1
        step = n // size
        for start in range(0, n, size):
            for k in range(half):
                wr = twr[k * step]
                wi = sgn * twi[k * step]
                a = start + k
                b = a + half
                xr = re[b] * wr - im[b] * wi
                xi = re[b] * wi + im[b] * wr
                re[b] = re[a] - xr
                im[b] = im[a] - xi
                re[a] += xr
                im[a] += xi
        size <<= 1


# ----------------------------------------------------------------------------------------------
# Polyphase rational resampler, y[m] = sum_j h[m*down + c - j*up] * x[j] (h already scaled by up).
# x is a window of the stream holding absolute samples [base, base + len); samples before 0 are 0.
# ----------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def poly_resample(x, base, h, up, down, c, m0, count, out):
    L = h.shape[0]
    for i in range(count):
        m = m0 + i
        t = m * down + c
        j_hi = t // up
        j_lo = (t - L + up) // up
        if j_lo < 0:
            j_lo = 0
        acc = 0.0
        for j in range(j_lo, j_hi + 1):
            acc += h[t - j * up] * x[j - base]
        out[i] = acc


# ----------------------------------------------------------------------------------------------
# Embedding: one call processes `ngroups` consecutive groups of GF frames.
# sig: (C, L) internal-rate channels holding absolute samples [sig_base, ...).
# mark: (C, Lm) accumulator holding absolute samples [mark_base, ...).
# tile_of: (PG, T) tile index (frame_in_group * N_BANDS + band) of the q-th slot of each group;
# usign: (PG, T) +/-1 spreading sign of that slot; dither: (PG, PP); role: (PG, PP) coded-bit index
# (>= 0) or -1 - sync index; bits: coded bits (0/1); sync_bits: (0/1).
# ----------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _add_mark(xre, xim, fl, C, delta, start, window, rev, twr, twi, bre, bim, mark):
    """mark[c, start:start+N] += window * IFFT(X_c * (exp(delta/2) - 1)) for the frame's bands."""
    for c in range(C):
        for t in range(N):
            bre[t] = 0.0
            bim[t] = 0.0
        for b in range(N_BANDS):
            a = np.exp(0.5 * delta[fl * N_BANDS + b]) - 1.0
            for k in range(BIN_LO + b * BAND_W, BIN_LO + (b + 1) * BAND_W):
                bre[k] = xre[fl, c, k] * a
                bim[k] = xim[fl, c, k] * a
                bre[N - k] = bre[k]
                bim[N - k] = -bim[k]
        fft_inplace(bre, bim, rev, twr, twi, True)
        for t in range(N):
            mark[c, start + t] += bre[t] * window[t] / N


@njit(cache=True, nogil=True)
def _group_logE(src_re, src_im, fl, C, eb, logE):
    """Floored log band energies of the channel mean of frame fl's spectra."""
    for b in range(N_BANDS):
        e = 0.0
        for k in range(BIN_LO + b * BAND_W, BIN_LO + (b + 1) * BAND_W):
            sr = 0.0
            si = 0.0
            for c in range(C):
                sr += src_re[fl, c, k]
                si += src_im[fl, c, k]
            sr /= C
            si /= C
            e += sr * sr + si * si
        eb[b] = e
    floored_log(eb, N_BANDS, logE, fl * N_BANDS)


@njit(cache=True, nogil=True)
def embed_groups(sig, sig_base, g0, ngroups, gf, np_tiles, tile_of, usign, dither, role, bits, sync_bits,
                 step, kappa, iters, window, rev, twr, twi, mark, mark_base):
    C = sig.shape[0]
    PG = tile_of.shape[0]
    pp = dither.shape[1]
    ntile = gf * N_BANDS
    xre = np.zeros((gf, C, N))
    xim = np.zeros((gf, C, N))
    yre = np.zeros((gf, 1, N))
    yim = np.zeros((gf, 1, N))
    logE = np.zeros(ntile)
    eb = np.zeros(N_BANDS)
    delta = np.zeros(ntile)
    target = np.zeros(pp)
    bre = np.zeros(N)
    bim = np.zeros(N)
    inv_sqrt = 1.0 / np.sqrt(np_tiles)
    for gi in range(ngroups):
        g = g0 + gi
        pg = g % PG
        for fl in range(gf):
            start = (g * gf + fl) * H - sig_base
            for c in range(C):
                for t in range(N):
                    xre[fl, c, t] = sig[c, start + t] * window[t]
                    xim[fl, c, t] = 0.0
                fft_inplace(xre[fl, c], xim[fl, c], rev, twr, twi, False)
            _group_logE(xre, xim, fl, C, eb, logE)
        for it in range(iters + 1):
            if it > 0:  # re-analyse the marked frames (this group's and earlier marks) and correct
                for fl in range(gf):
                    s0 = (g * gf + fl) * H
                    for t in range(N):
                        v = 0.0
                        for c in range(C):
                            v += sig[c, s0 - sig_base + t] + mark[c, s0 - mark_base + t]
                        yre[fl, 0, t] = v / C * window[t]
                        yim[fl, 0, t] = 0.0
                    fft_inplace(yre[fl, 0], yim[fl, 0], rev, twr, twi, False)
                    _group_logE(yre, yim, fl, 1, eb, logE)
            for i in range(ntile):
                delta[i] = 0.0
            for j in range(pp):
                p = 0.0
                silent = False
                for q in range(j * np_tiles, (j + 1) * np_tiles):
                    v = logE[tile_of[pg, q]]
                    if v <= SILENT:
                        silent = True
                    p += usign[pg, q] * v
                if silent:
                    continue
                p *= inv_sqrt
                if it == 0:
                    r = role[pg, j]
                    if r >= 0:
                        bit = bits[r]
                    else:
                        bit = sync_bits[-1 - r]
                    off = dither[pg, j] + 0.5 * step * bit
                    target[j] = off + step * np.floor((p - off) / step + 0.5)
                e = target[j] - p
                if it > 0:  # corrections are bounded: where the analysis is unstable (onsets) do not chase it
                    lim = 0.25 * step
                    e = min(lim, max(-lim, e))
                e *= inv_sqrt / kappa
                for q in range(j * np_tiles, (j + 1) * np_tiles):
                    delta[tile_of[pg, q]] = usign[pg, q] * e
            for fl in range(gf):
                _add_mark(xre, xim, fl, C, delta, (g * gf + fl) * H - mark_base, window, rev, twr, twi,
                          bre, bim, mark)


# ----------------------------------------------------------------------------------------------
# Detection
# ----------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def band_logE(spec_re, spec_im, out):
    """spec_*: (F, N//2+1) spectra of windowed frames -> out (F, N_BANDS) log tile energies."""
    F = spec_re.shape[0]
    eb = np.zeros(N_BANDS)
    row = np.zeros(N_BANDS)
    for f in range(F):
        for b in range(N_BANDS):
            e = 0.0
            for k in range(BIN_LO + b * BAND_W, BIN_LO + (b + 1) * BAND_W):
                e += spec_re[f, k] * spec_re[f, k] + spec_im[f, k] * spec_im[f, k]
            eb[b] = e
        floored_log(eb, N_BANDS, row, 0)
        for b in range(N_BANDS):
            out[f, b] = row[b]


@njit(cache=True, nogil=True)
def _soft(p, d, step):
    t = (p - d) / step
    t = t - np.floor(t)
    return 1.0 - 4.0 * abs(t - 0.5)


@njit(cache=True, nogil=True)
def sync_scores(logE, row0, row_step, nframes, gf, np_tiles, tile_of, usign, dither, role, sync_sign,
                sync_use, step, floor_logE, out_num, out_den):
    """For every period phase k (frame f of the window is period frame (f + k) mod PF), sum over the
    sync projections with sync_use[s] of x*s (num) and x*x (den); x is the soft value (+1 ~ bit 1).
    Window frame f is row row0 + f*row_step of logE. Projections whose tiles are all near the
    floor (digital silence) are skipped."""
    PG = tile_of.shape[0]
    PF = PG * gf
    pp = dither.shape[1]
    inv_sqrt = 1.0 / np.sqrt(np_tiles)
    for k in range(PF):
        num = 0.0
        den = 0.0
        f0 = (-k) % gf
        f = f0
        while f + gf <= nframes:
            pg = ((f + k) % PF) // gf
            for j in range(pp):
                r = role[pg, j]
                if r >= 0:
                    continue
                s = -1 - r
                if not sync_use[s]:
                    continue
                p = 0.0
                mn = 1e30
                for q in range(j * np_tiles, (j + 1) * np_tiles):
                    ti = tile_of[pg, q]
                    v = logE[row0 + (f + ti // N_BANDS) * row_step, ti % N_BANDS]
                    if v < mn:
                        mn = v
                    p += usign[pg, q] * v
                if mn < floor_logE:
                    continue
                x = _soft(p * inv_sqrt, dither[pg, j], step)
                num += x * sync_sign[s]
                den += x * x
            f += gf
        out_num[k] = num
        out_den[k] = den


@njit(cache=True, nogil=True)
def soft_projections(logE, nframes, k, gf, np_tiles, tile_of, usign, dither, role, step, floor_logE,
                     n_coded, n_sync, coded_acc, coded_cnt, sync_x):
    """At phase k, accumulate soft values of coded bits (sum and count) and store sync soft values
    (sum over repeats) for the window's complete groups."""
    PG = tile_of.shape[0]
    PF = PG * gf
    pp = dither.shape[1]
    inv_sqrt = 1.0 / np.sqrt(np_tiles)
    f = (-k) % gf
    while f + gf <= nframes:
        pg = ((f + k) % PF) // gf
        for j in range(pp):
            p = 0.0
            mn = 1e30
            for q in range(j * np_tiles, (j + 1) * np_tiles):
                ti = tile_of[pg, q]
                v = logE[f + ti // N_BANDS, ti % N_BANDS]
                if v < mn:
                    mn = v
                p += usign[pg, q] * v
            if mn < floor_logE:
                continue
            x = _soft(p * inv_sqrt, dither[pg, j], step)
            r = role[pg, j]
            if r >= 0:
                coded_acc[r] += x
                coded_cnt[r] += 1
            else:
                sync_x[-1 - r] += x
        f += gf
