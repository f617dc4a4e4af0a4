"""Plain NumPy/SciPy implementation of the audio watermark algorithm (same layout, same maths, no
Numba), used as the speed baseline in bench/test_bench_audio.py. One-shot only (no streaming)."""

from __future__ import annotations

import math

import numpy as np
import scipy.signal
import scipy.stats
from numpy.lib.stride_tricks import sliding_window_view

from synthmark.watermark import _audio_kernels as K
from synthmark.watermark import audio as A

BINS = np.arange(K.BIN_LO, K.BIN_LO + K.N_BANDS * K.BAND_W)


def _energies(X):  # X (..., N//2+1) spectra -> band energies (..., N_BANDS), frame floors (..., 1)
    e = (np.abs(X[..., BINS]) ** 2).reshape(X.shape[:-1] + (K.N_BANDS, K.BAND_W)).sum(-1)
    return e, K.REL_FLOOR * e.mean(-1, keepdims=True)


def _logE(X):  # X (..., N//2+1) spectra -> floored log band energies (..., N_BANDS)
    e, f = _energies(X)
    return np.where(f > K.REL_FLOOR * K.ABS_FLOOR, np.log(e + f), K.SILENT)


def _noise_floor(logE):
    live = logE[:, 0] > K.SILENT + 1.0
    if live.sum() < 4:
        return np.full(K.N_BANDS, -50.0)
    return np.percentile(logE[live], A.NF_PERCENTILE, axis=0)


def _stft(x, hop):  # x (..., n) -> (..., F, N//2+1)
    fr = sliding_window_view(x, K.N, axis=-1)[..., ::hop, :] * A._WINDOW
    return np.fft.rfft(fr, axis=-1)


def _tiles(a, lay, pg):
    """a (F, 25) of whole groups -> the projections' tile values (G, PP, NP)."""
    G = len(pg)
    return np.take_along_axis(a[: G * A.GF].reshape(G, -1), lay.tile_of[pg], axis=1).reshape(G, A.PP, A.NP)


def _proj(logE, lay, g_first, nf=None):
    """logE (F, 25) of whole groups -> p (G, PP), silent mask (G, PP), pg, noise weight (G, PP)."""
    G = logE.shape[0] // A.GF
    pg = (g_first + np.arange(G)) % lay.pg
    vals = _tiles(logE, lay, pg)
    p = (vals * lay.usign[pg].reshape(G, A.PP, A.NP)).sum(-1) / math.sqrt(A.NP)
    w = None
    if nf is not None:
        w = np.exp(-A.NF_WEIGHT * np.exp(_tiles(np.broadcast_to(nf, logE.shape), lay, pg) - vals).mean(-1))
    return p, (vals <= K.SILENT).any(-1), pg, w


def embed(x, fs, key, payload):
    """x: (n,) or (n, C) float32 -> marked float32, same shape."""
    bits = A._coded_bits(payload)
    lay = A._layout(key, len(bits))
    up, down, h = A._filter(fs)
    xc = x.reshape(len(x), -1).T.astype(np.float64)
    xs = scipy.signal.resample_poly(xc, up, down, axis=1, window=h) if up * down > 1 else xc
    F = (xs.shape[1] - K.N) // K.H + 1
    G = F // A.GF
    F = G * A.GF
    X = _stft(xs, K.H)[:, :F]  # (C, F, 513)
    p, silent, pg, _ = _proj(_logE(X.mean(0)), lay, 0)
    r = lay.role[pg]
    b = np.where(r >= 0, bits[np.maximum(r, 0)], lay.sync_bits[np.maximum(-1 - r, 0)])
    off = lay.dither[pg] + 0.5 * A.STEP * b
    target = off + A.STEP * np.floor((p - off) / A.STEP + 0.5)
    mark = np.zeros_like(xs)

    band_cost = _energies(X)[0].mean(0)  # (F, 25): band energy, mean over channels
    cost = _tiles(band_cost, lay, pg)

    def add(e, Y):
        en, fl = _energies(Y)
        sq = _tiles(np.divide(en, en + fl, out=np.zeros_like(en), where=en + fl > 0), lay, pg)
        a = np.divide(sq, cost, out=np.zeros_like(cost), where=cost > 0)
        ssum = (sq * a).sum(-1)
        ok = ~silent & (ssum > 0)
        lam = np.where(ok, e, 0.0) * math.sqrt(A.NP) / A.KAPPA / np.where(ok, ssum, 1.0)
        d = np.clip(lay.usign[pg].reshape(G, A.PP, A.NP) * lam[..., None] * a, -K.DMAX, K.DMAX)
        delta = np.zeros((G, A.GF * K.N_BANDS))
        np.put_along_axis(delta, lay.tile_of[pg], d.reshape(G, -1), axis=1)
        fr = sliding_window_view(xs, K.N, axis=-1)[:, ::K.H][:, :F] * A._WINDOW
        e1 = (fr[..., : K.H] ** 2).sum((0, 2))
        e2 = (fr[..., K.H:] ** 2).sum((0, 2))
        _level_control(delta, band_cost.reshape(G, -1), (e1 + e2).reshape(G, A.GF).sum(1) / len(xs))
        g = np.exp(0.5 * delta.reshape(F, K.N_BANDS)) - 1.0
        # onset guard
        on = e2 > A.ONSET_RISE * e1
        g[on] *= np.sqrt(A.ONSET_RISE * e1[on] / e2[on])[:, None]
        a = np.repeat(g, K.BAND_W, axis=1)
        M = np.zeros_like(X)
        M[..., BINS] = X[..., BINS] * a
        m = np.fft.irfft(M, K.N, axis=-1) * A._WINDOW
        for par in (0, 1):  # frames of one parity do not overlap
            seg = m[:, par::2].reshape(len(m), -1)
            mark[:, par * K.H: par * K.H + seg.shape[1]] += seg

    add(target - p, X.mean(0))
    m_fs = scipy.signal.resample_poly(mark, down, up, axis=1, window=h) if up * down > 1 else mark
    n = xc.shape[1]
    m_fs = np.pad(m_fs, ((0, 0), (0, max(0, n - m_fs.shape[1]))))[:, :n]
    return (xc + m_fs).T.reshape(x.shape).astype(np.float32)


def _level_control(delta, cost, s_group):
    """Scale each group's tile log-changes (in place, group after group) so that the mark's energy
    over about the last second stays A.LEVEL_BUDGET_DB below the signal's."""
    budget = 10.0 ** (-A.LEVEL_BUDGET_DB / 10.0)
    s_run = m_run = 0.0

    def energy(g):  # windowed time-domain energy of group g's mark (2/N: rfft bins)
        return float((cost[g] * (np.exp(0.5 * delta[g]) - 1.0) ** 2).sum()) * 2.0 / K.N

    for g in range(len(delta)):
        m = energy(g)
        s_run = A.LEVEL_DECAY * s_run + s_group[g]
        m_prev = A.LEVEL_DECAY * m_run
        room = budget * s_run - m_prev
        if m > room and m > 0.0:
            delta[g] *= math.sqrt(max(room, 0.0) / m)
            m = energy(g)
        m_run = m_prev + m


def _soft(p, d):
    t = (p - d) / A.STEP
    t -= np.floor(t)
    return 1.0 - 4.0 * np.abs(t - 0.5)


def _scores(logE, lay, ks, nf):
    """Search score for each period phase k (window frame f = period frame f + k)."""
    out = np.full(len(ks), -np.inf)
    PF = lay.period_frames
    for i, k in enumerate(ks):
        f0 = (-k) % A.GF
        p, silent, pg, w = _proj(logE[f0:], lay, ((f0 + k) % PF) // A.GF, nf)
        r = lay.role[pg]
        s = np.maximum(-1 - r, 0)
        use = (r < 0) & ~silent & lay.sync_search[s]
        x = (_soft(p, lay.dither[pg]) * w)[use]
        den = np.sum(x * x)
        if den > 0:
            out[i] = np.sum(x * lay.sync_sign[s[use]]) / math.sqrt(den)
    return out


def detect(x, fs, key):
    """-> (z, payload or None) at speed 1."""
    code = A._payload_code()
    lay = A._layout(key, code.coded_bits)
    up, down, h = A._filter(fs)
    xm = x.reshape(len(x), -1).astype(np.float64).mean(1)
    if x.dtype == np.int16:
        xm /= 32768.0
    xs = scipy.signal.resample_poly(xm, up, down, window=h) if up * down > 1 else xm
    PF = lay.period_frames
    ks = np.arange(PF)
    L = _logE(_stft(xs, A.COARSE_STEP))
    nf = _noise_floor(L)
    rph = K.H // A.COARSE_STEP
    best = (-np.inf, 0, 0)
    for i in range(rph):
        sc = _scores(L[i::rph], lay, ks, nf)
        j = int(np.argmax(sc))
        if sc[j] > best[0]:
            best = (sc[j], i * A.COARSE_STEP, j)
    _, ph0, k0 = best

    def score(d):
        ph, kk = ph0 + d, k0
        if ph < 0:
            ph, kk = ph + K.H, (k0 + 1) % PF
        elif ph >= K.H:
            ph, kk = ph - K.H, (k0 - 1) % PF
        cand = np.array([(kk + o) % PF for o in (-1, 0, 1)])
        sc = _scores(_logE(_stft(xs[ph:], K.H)), lay, cand, nf)
        j = int(np.argmax(sc))
        return (sc[j], ph, int(cand[j]))

    best, best_d, step = score(0), 0, A.COARSE_STEP // 2
    while step >= A.FINE_STEP:
        d0 = best_d
        for d in (d0 - step, d0 + step):
            c = score(d)
            if c[0] > best[0]:
                best, best_d = c, d
        step //= 2
    _, ph, k = best
    logE = _logE(_stft(xs[ph:], K.H))
    f0 = (-k) % A.GF
    p, silent, pg, w = _proj(logE[f0:], lay, ((f0 + k) % PF) // A.GF, nf)
    xv = np.where(silent, 0.0, _soft(p, lay.dither[pg]) * w)
    r = lay.role[pg]
    acc = np.zeros(lay.n_coded)
    np.add.at(acc, np.maximum(r, 0)[r >= 0], xv[r >= 0])
    sx = np.zeros(len(lay.sync_sign))
    np.add.at(sx, (-1 - r)[r < 0], xv[r < 0])
    t = lay.sync_test
    z = float(np.sum(sx[t] * lay.sync_sign[t]) / math.sqrt(max(np.sum(sx[t] ** 2), 1e-12)))
    ok, payload, _, _ = code.decode_list(acc.astype(np.float32), A.LIST_SIZE if z >= A.LIST_MIN_Z else 1)
    return z, (int(payload) if ok else None)
