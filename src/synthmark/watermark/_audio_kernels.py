"""Numba kernels of the audio watermark: pure functions over arrays, no Python objects inside.

Signal model (all at the internal rate, 16 kHz):
  frames of N=1024 samples (64 ms) every H=512 samples, sqrt-Hann analysis and synthesis window;
  25 bands of 8 FFT bins (bins 20..219, 312-3437 Hz); a *tile* is one band of one frame;
  a *group* is GF consecutive frames; its GF*25 tiles are split (keyed) into projections of NP tiles.
Each projection carries one bit by spread-transform dither modulation (STDM) on tile log-energies:
  p = sum_q u_q * log(E_q + eps) / sqrt(NP),  quantised to the keyed lattice  d + delta*(k + bit/2).
The embedder changes each tile's gain so that p lands on the lattice point (host interference is
rejected, unlike plain spread spectrum), splitting the change over the tiles so that the added energy
is least (quiet tiles move more, loud ones less), which allows a large lattice step at SNR >= 35 dB.
The detector reads p, maps it to a soft bit in [-1, 1] and weights it by the projection's energy
above the window's per-band noise floor (tiles filled by noise or codec noise carry little) and by
its frames' level relative to the window's loud frames.
"""

from __future__ import annotations

import numpy as np
from numba import njit

N = 1024
H = 512
BIN_LO = 20
BAND_W = 8
N_BANDS = 25
ABS_FLOOR = 4e-7  # mean band energy below this (about -90 dBFS) = digital silence: the frame carries nothing
SILENT = -1000.0
REL_FLOOR = 5e-2  # tile energies are floored at -13 dB below the frame mean band energy (scale-free)
DMAX = 1.0  # largest log-energy change of one tile per pass (amplitude x0.61 .. x1.65)


@njit(cache=True, nogil=True)
def frame_floor(e, nb):
    """Floor of a frame's tile energies: REL_FLOOR times the mean band energy, or -1 for digital
    silence (mean band energy below ABS_FLOOR)."""
    m = 0.0
    for b in range(nb):
        m += e[b]
    m /= nb
    if not m > ABS_FLOOR:
        return -1.0
    return REL_FLOOR * m


@njit(cache=True, nogil=True)
def floored_log(e, nb, out, o):
    """out[o + b] = log(e[b] + floor) or SILENT for a silent frame."""
    f = frame_floor(e, nb)
    for b in range(nb):
        out[o + b] = np.log(e[b] + f) if f >= 0.0 else SILENT


# ----------------------------------------------------------------------------------------------
# Polyphase rational resampler, y[m] = sum_j h[m*down + c - j*up] * x[j] (h already scaled by up).
# x is a window of the stream holding absolute samples [base, base + len); samples before 0 are 0.
# ----------------------------------------------------------------------------------------------
def polyphase(h, up):
    """h (L,) -> hp (up, T) with hp[ph, T - 1 - i] = h[ph + i*up] (0 past the end): the taps of each
    phase stored in reverse, so that the dot product in poly_resample runs forward over x."""
    T = -(-len(h) // up)
    hp = np.zeros(up * T)
    hp[: len(h)] = h
    return np.ascontiguousarray(hp.reshape(T, up).T[:, ::-1])


@njit(cache=True, nogil=True, fastmath=True)
def poly_resample(x, base, hp, up, down, c, m0, count, out):
    """out[i] = y[m0 + i] with y[m] = sum_i h[ph + i*up] * x[j_hi - i], t = m*down + c, j_hi = t // up,
    ph = t - j_hi*up (hp from polyphase). x holds absolute samples [base, base + len); samples before
    0 are 0. The summation order depends only on the output index, so chunked (streaming) and one-shot
    calls agree bit for bit."""
    T = hp.shape[1]
    t = m0 * down + c
    j_hi = t // up
    ph = t - j_hi * up
    for i in range(count):
        acc = 0.0
        if j_hi + 1 >= T:
            o = j_hi - T + 1 - base
            for q in range(T):
                acc += hp[ph, q] * x[o + q]
        else:
            o = j_hi - base
            for q in range(j_hi + 1):
                acc += hp[ph, T - 1 - q] * x[o - q]
        out[i] = acc
        ph += down
        while ph >= up:
            ph -= up
            j_hi += 1


@njit(cache=True, nogil=True, fastmath=True)
def poly_resample_fast(x, base, hp, up, down, c, m0, count, out, tmp, blk=256):
    """Same values as poly_resample (each output is the same ordered sum over the taps, q = 0..T-1),
    but the bulk is computed phase by phase with the taps in the outer loop and the outputs of one
    phase in the inner loop (vectorisable, no per-output overhead). Outputs whose taps reach before
    sample 0 (the first few of the stream) use the per-output form of poly_resample.
    tmp: scratch of at least ceil(count / up) floats."""
    T = hp.shape[1]
    i = 0
    while i < count:
        t = (m0 + i) * down + c
        j_hi = t // up
        if j_hi + 1 >= T:
            break
        ph = t - j_hi * up
        o = j_hi - base
        acc = 0.0
        for q in range(j_hi + 1):
            acc += hp[ph, T - 1 - q] * x[o - q]
        out[i] = acc
        i += 1
    split = down > 1 and down <= 8 and count - i > 0
    if split:  # de-interleave x into its `down` phases so that the inner loops run over contiguous memory
        L = x.shape[0]
        per = (L + down - 1) // down
        xd = np.zeros((down, per))
        for p in range(down):
            row = xd[p]
            for k in range((L - p + down - 1) // down):
                row[k] = x[p + k * down]
    else:
        xd = np.zeros((1, 1))
    _poly_bulk(x, xd, split, base, hp, up, down, c, m0, i, count, out, tmp, blk)


@njit(cache=True, nogil=True, fastmath=True)
def _fir21_3(xd, lo, k0, h, out):
    """out[k] = sum over q = 0..20 in order of h[q] * x[lo + q + 3 * (k0 + k)], x de-interleaved by 3:
    x[j] = xd[j % 3, j // 3] (48 kHz -> 16 kHz; the taps unrolled, the outputs vectorised)."""
    n = out.shape[0]
    b0 = lo // 3 + k0
    b1 = (lo + 1) // 3 + k0
    b2 = (lo + 2) // 3 + k0
    x0 = xd[lo % 3, b0: b0 + n + 6]
    x1 = xd[(lo + 1) % 3, b1: b1 + n + 6]
    x2 = xd[(lo + 2) % 3, b2: b2 + n + 6]
    h0, h1, h2, h3, h4, h5, h6 = h[0], h[1], h[2], h[3], h[4], h[5], h[6]
    h7, h8, h9, h10, h11, h12, h13 = h[7], h[8], h[9], h[10], h[11], h[12], h[13]
    h14, h15, h16, h17, h18, h19, h20 = h[14], h[15], h[16], h[17], h[18], h[19], h[20]
    for k in range(n):
        acc = 0.0
        acc += h0 * x0[k]
        acc += h1 * x1[k]
        acc += h2 * x2[k]
        acc += h3 * x0[k + 1]
        acc += h4 * x1[k + 1]
        acc += h5 * x2[k + 1]
        acc += h6 * x0[k + 2]
        acc += h7 * x1[k + 2]
        acc += h8 * x2[k + 2]
        acc += h9 * x0[k + 3]
        acc += h10 * x1[k + 3]
        acc += h11 * x2[k + 3]
        acc += h12 * x0[k + 4]
        acc += h13 * x1[k + 4]
        acc += h14 * x2[k + 4]
        acc += h15 * x0[k + 5]
        acc += h16 * x1[k + 5]
        acc += h17 * x2[k + 5]
        acc += h18 * x0[k + 6]
        acc += h19 * x1[k + 6]
        acc += h20 * x2[k + 6]
        out[k] = acc


@njit(cache=True, nogil=True, fastmath=True)
def _poly_bulk(x, xd, split, base, hp, up, down, c, m0, i, count, out, tmp, blk):
    """Outputs i .. count - 1 of poly_resample_fast (those whose taps all lie at or after sample 0).
    split: read x through xd (down, per), xd[p, k] = x[p + k * down], instead of x."""
    T = hp.shape[1]
    n = count - i
    if n <= 0:
        return
    nr = min(up, n)
    ph_r = np.empty(nr, np.int64)
    lo_r = np.empty(nr, np.int64)
    nk_r = np.empty(nr, np.int64)
    for r in range(nr):
        t = (m0 + i + r) * down + c
        j_hi = t // up
        ph_r[r] = t - j_hi * up
        lo_r[r] = j_hi - T + 1 - base  # x index of tap 0 of output i + r; output i + r + k*up starts k*down later
        nk_r[r] = (n - r + up - 1) // up
    nk_max = (n + up - 1) // up
    for k0 in range(0, nk_max, blk):  # blocks (all phases of one stretch of output) that stay in cache
        for r in range(nr):
            k1 = min(nk_r[r], k0 + blk)
            if k1 <= k0:
                continue
            ph = ph_r[r]
            lo = lo_r[r]
            acc_out = out[i + k0: i + k1] if up == 1 else tmp[: k1 - k0]
            if split and down == 3 and T == 21:  # 48 kHz -> 16 kHz
                _fir21_3(xd, lo, k0, hp[ph], acc_out)
                if up != 1:
                    o = i + r + k0 * up
                    for k in range(k1 - k0):
                        out[o + k * up] = acc_out[k]
                continue
            for k in range(k1 - k0):
                acc_out[k] = 0.0
            for q in range(T):
                hq = hp[ph, q]
                if down == 1:
                    xs = x[lo + q + k0: lo + q + k1]
                    for k in range(k1 - k0):
                        acc_out[k] += hq * xs[k]
                elif split:
                    s0 = (lo + q) // down + k0
                    xs = xd[(lo + q) % down, s0: s0 + k1 - k0]
                    for k in range(k1 - k0):
                        acc_out[k] += hq * xs[k]
                else:
                    xo = lo + q + k0 * down
                    for k in range(k1 - k0):
                        acc_out[k] += hq * x[xo + k * down]
            if up != 1:
                o = i + r + k0 * up
                for k in range(k1 - k0):
                    out[o + k * up] = acc_out[k]


# ----------------------------------------------------------------------------------------------
# Embedding: the tile gains of whole groups of GF frames (the FFTs are batched outside, in scipy.fft).
# tile_of: (PG, T) tile index (frame_in_group * N_BANDS + band) of the q-th slot of each group;
# usign: (PG, T) +/-1 spreading sign of that slot; dither: (PG, PP); role: (PG, PP) coded-bit index
# (>= 0) or -1 - sync index; bits: coded bits (0/1); sync_bits: (0/1).
# ----------------------------------------------------------------------------------------------
NB = N_BANDS * BAND_W  # band bins BIN_LO .. BIN_LO + NB


@njit(cache=True, nogil=True)
def _mark_energy(delta, cost):
    """Windowed time-domain energy of a group's mark, mean over channels: tile log-energy changes
    delta, tile band energies cost (|X|^2 of rfft bins, hence 2/N)."""
    m = 0.0
    for i in range(delta.shape[0]):
        g = np.exp(0.5 * delta[i]) - 1.0
        m += cost[i] * g * g
    return m * 2.0 / N


@njit(cache=True, nogil=True)
def group_gains(xb, pg0, gf, np_tiles, tile_of, usign, dither, role, bits, sync_bits, step, kappa, e_frame, budget,
                decay, level, gains):
    """Tile gains of the mark for consecutive groups.

    xb: (C, F, NB) complex band bins (BIN_LO ..) of the windowed frames of F // gf whole groups, the
    first of which has period group index pg0 (the next ones pg0 + 1, ... modulo PG).
    gains: (F, N_BANDS) output; the mark of frame f, channel c is IFFT(xb[c, f] * gains[f, band]).
    e_frame: (F,) windowed time-domain energy of each frame (summed over channels). level: (2,) running
    (signal, mark) energies of the level control, updated group after group (decay per group), which
    scales a group's changes down where the mark would exceed `budget` times the signal energy.
    Each group is computed from its own frames and the level state (the same whatever the batching)."""
    C = xb.shape[0]
    F = xb.shape[1]
    PG = tile_of.shape[0]
    pp = dither.shape[1]
    ntile = gf * N_BANDS
    logE = np.zeros(ntile)
    eb = np.zeros(N_BANDS)
    lin = np.zeros(ntile)
    cost = np.zeros(ntile)
    flo = np.zeros(gf)
    delta = np.zeros(ntile)
    inv_sqrt = 1.0 / np.sqrt(np_tiles)
    for gi in range(F // gf):
        pg = (pg0 + gi) % PG
        for fl in range(gf):
            f = gi * gf + fl
            for b in range(N_BANDS):
                e = 0.0
                ec = 0.0
                for i in range(b * BAND_W, (b + 1) * BAND_W):
                    sr = 0.0
                    si = 0.0
                    for c in range(C):
                        v = xb[c, f, i]
                        sr += v.real
                        si += v.imag
                        ec += v.real * v.real + v.imag * v.imag
                    sr /= C
                    si /= C
                    e += sr * sr + si * si
                eb[b] = e
                lin[fl * N_BANDS + b] = e
                cost[fl * N_BANDS + b] = ec / C
            flo[fl] = max(0.0, frame_floor(eb, N_BANDS))
            floored_log(eb, N_BANDS, logE, fl * N_BANDS)
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
            r = role[pg, j]
            bit = bits[r] if r >= 0 else sync_bits[-1 - r]
            off = dither[pg, j] + 0.5 * step * bit
            e = off + step * np.floor((p - off) / step + 0.5) - p
            # cheapest split of the projection change over its tiles (least added energy):
            # minimise sum_q C_q delta_q^2 (C_q: the tile's energy, mean over channels) subject to
            # dp = sum_q u_q s_q delta_q / sqrt(NP) = e / kappa, where s_q = E_q / (E_q + F) is the
            # sensitivity of the floored log of the analysed (channel-mean) energy E_q:
            # delta_q = lam * u_q * s_q / C_q. Loud tiles get small relative changes, quieter ones
            # larger (capped at DMAX): far less added energy than an equal split for the same dp.
            ssum = 0.0
            for q in range(j * np_tiles, (j + 1) * np_tiles):
                ti = tile_of[pg, q]
                s_ = lin[ti] / (lin[ti] + flo[ti // N_BANDS])
                if cost[ti] > 0.0:
                    ssum += s_ * s_ / cost[ti]
            if not ssum > 0.0:  # every tile of the projection is exactly zero
                continue
            lam = e * np.sqrt(np_tiles) / (kappa * ssum)
            for q in range(j * np_tiles, (j + 1) * np_tiles):
                ti = tile_of[pg, q]
                d = 0.0
                if cost[ti] > 0.0:
                    d = usign[pg, q] * lam * lin[ti] / ((lin[ti] + flo[ti // N_BANDS]) * cost[ti])
                delta[ti] = min(DMAX, max(-DMAX, d))
        if budget > 0.0:
            # level control: the mark's energy over the recent groups stays at most `budget` times the
            # signal's (both as windowed time-domain energies, mean over channels)
            s_g = 0.0
            for fl in range(gf):
                s_g += e_frame[gi * gf + fl] / C
            m_g = _mark_energy(delta, cost)
            s_run = decay * level[0] + s_g
            m_prev = decay * level[1]
            room = budget * s_run - m_prev
            if m_g > room and m_g > 0.0:
                a = np.sqrt(max(room, 0.0) / m_g)
                for i in range(ntile):
                    delta[i] *= a
                m_g = _mark_energy(delta, cost)
            level[0] = s_run
            level[1] = m_prev + m_g
        for fl in range(gf):
            for b in range(N_BANDS):
                gains[gi * gf + fl, b] = np.exp(0.5 * delta[fl * N_BANDS + b]) - 1.0


# ----------------------------------------------------------------------------------------------
# Detection
# ----------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def frames_windowed(x, start, step, window, out):
    """out[f] = x[start + f*step : ... + N] * window for every row f of out (F, N)."""
    for f in range(out.shape[0]):
        o = start + f * step
        xs = x[o: o + N]
        row = out[f]
        for t in range(N):
            row[t] = xs[t] * window[t]


@njit(cache=True, nogil=True)
def frames_warped(x, start, i0, step, window, out):
    """out[f] = x[o : o + N] * window with o = start + round((i0 + f) * step) (step: a float hop),
    clamped to the last whole frame of x."""
    last = x.shape[0] - N
    for f in range(out.shape[0]):
        o = min(start + int(np.floor((i0 + f) * step + 0.5)), last)
        xs = x[o: o + N]
        row = out[f]
        for t in range(N):
            row[t] = xs[t] * window[t]


@njit(cache=True, nogil=True)
def band_logE(spec, out):
    """spec: (F, N//2+1) complex spectra of windowed frames -> out (F, N_BANDS) floored log energies."""
    F = spec.shape[0]
    eb = np.zeros(N_BANDS)
    row = np.zeros(N_BANDS)
    for f in range(F):
        for b in range(N_BANDS):
            e = 0.0
            for k in range(BIN_LO + b * BAND_W, BIN_LO + (b + 1) * BAND_W):
                v = spec[f, k]
                e += v.real * v.real + v.imag * v.imag
            eb[b] = e
        floored_log(eb, N_BANDS, row, 0)
        for b in range(N_BANDS):
            out[f, b] = row[b]


@njit(cache=True, nogil=True)
def _soft(p, d, step):
    """Soft bit in [-1, 1] (+1 on the bit-1 lattice d + step*(k + 1/2), -1 on the bit-0 lattice): the
    first harmonic of the lattice, -cos(2 pi (p - d) / step). Near the log-likelihood ratio when the
    noise is comparable to the step (codecs), and measured 1-2% better than the triangle it replaced."""
    t = (p - d) / step
    return -np.cos(2.0 * np.pi * t)


@njit(cache=True, nogil=True)
def sync_scores(logE, wt, row0, row_step, nframes, gf, np_tiles, tile_of, usign, dither, sj, ss, sync_sign,
                step, floor_logE, cw, ks, out_num, out_den):
    """For each period phase k = ks[i] (frame f of the window is period frame (f + k) mod PF), sum over the
    sync projections listed in sj/ss (sj[pg, m]: projection index in group pg, -1 = end of list;
    ss[pg, m]: its sync index) of x*s (num) and x*x (den); x is the soft value (+1 ~ bit 1).
    Window frame f is row row0 + f*row_step of logE (wt: exp(noise floor - logE), same shape).
    Projections with a tile at digital silence are skipped. Results go to out_num[i], out_den[i]."""
    PG = tile_of.shape[0]
    PF = PG * gf
    M = sj.shape[1]
    inv_sqrt = 1.0 / np.sqrt(np_tiles)
    inv_np = 1.0 / np_tiles
    for i in range(ks.shape[0]):
        k = ks[i]
        num = 0.0
        den = 0.0
        f = (-k) % gf
        while f + gf <= nframes:
            pg = ((f + k) % PF) // gf
            for m in range(M):
                j = sj[pg, m]
                if j < 0:
                    break
                p = 0.0
                mn = 1e30
                ns = 0.0
                for q in range(j * np_tiles, (j + 1) * np_tiles):
                    ti = tile_of[pg, q]
                    row = row0 + (f + ti // N_BANDS) * row_step
                    v = logE[row, ti % N_BANDS]
                    if v < mn:
                        mn = v
                    p += usign[pg, q] * v
                    ns += wt[row, ti % N_BANDS]
                if mn < floor_logE:
                    continue
                x = _soft(p * inv_sqrt, dither[pg, j], step) * np.exp(-cw * ns * inv_np)
                num += x * sync_sign[ss[pg, m]]
                den += x * x
            f += gf
        out_num[i] = num
        out_den[i] = den


@njit(cache=True, nogil=True)
def soft_projections(logE, wt, nframes, k, gf, np_tiles, tile_of, usign, dither, role, step, floor_logE,
                     cw, n_coded, n_sync, coded_acc, coded_cnt, sync_x):
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
            ns = 0.0
            for q in range(j * np_tiles, (j + 1) * np_tiles):
                ti = tile_of[pg, q]
                v = logE[f + ti // N_BANDS, ti % N_BANDS]
                if v < mn:
                    mn = v
                p += usign[pg, q] * v
                ns += wt[f + ti // N_BANDS, ti % N_BANDS]
            if mn < floor_logE:
                continue
            x = _soft(p * inv_sqrt, dither[pg, j], step) * np.exp(-cw * ns / np_tiles)
            r = role[pg, j]
            if r >= 0:
                coded_acc[r] += x
                coded_cnt[r] += 1
            else:
                sync_x[-1 - r] += x
        f += gf


# ----------------------------------------------------------------------------------------------
# Embedding plumbing fused into single passes (no float64 temporaries, no strided numpy copies).
# Each kernel computes the same per-element arithmetic as the NumPy expression it replaces.
# ----------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def window_frames(sig, a, window, frames, e1, e2):
    """frames[c, f, t] = sig[c, a + f*H + t] * window[t]; e1[f] / e2[f]: energy of the first / second
    half of frame f (summed over channels, in the order c, t). Four frames at a time: their four
    energy sums are independent chains (each still summed in the same order)."""
    C = frames.shape[0]
    F = frames.shape[1]
    f = 0
    while f + 4 <= F:
        p0 = p1 = p2 = p3 = 0.0
        q0 = q1 = q2 = q3 = 0.0
        for c in range(C):
            o = a + f * H
            x0 = sig[c, o: o + N]
            x1 = sig[c, o + H: o + H + N]
            x2 = sig[c, o + 2 * H: o + 2 * H + N]
            x3 = sig[c, o + 3 * H: o + 3 * H + N]
            d0 = frames[c, f]
            d1 = frames[c, f + 1]
            d2 = frames[c, f + 2]
            d3 = frames[c, f + 3]
            for t in range(H):
                w = window[t]
                v0 = x0[t] * w
                v1 = x1[t] * w
                v2 = x2[t] * w
                v3 = x3[t] * w
                d0[t] = v0
                d1[t] = v1
                d2[t] = v2
                d3[t] = v3
                p0 += v0 * v0
                p1 += v1 * v1
                p2 += v2 * v2
                p3 += v3 * v3
            for t in range(H, N):
                w = window[t]
                v0 = x0[t] * w
                v1 = x1[t] * w
                v2 = x2[t] * w
                v3 = x3[t] * w
                d0[t] = v0
                d1[t] = v1
                d2[t] = v2
                d3[t] = v3
                q0 += v0 * v0
                q1 += v1 * v1
                q2 += v2 * v2
                q3 += v3 * v3
        e1[f] = p0
        e1[f + 1] = p1
        e1[f + 2] = p2
        e1[f + 3] = p3
        e2[f] = q0
        e2[f + 1] = q1
        e2[f + 2] = q2
        e2[f + 3] = q3
        f += 4
    while f < F:
        s1 = 0.0
        s2 = 0.0
        for c in range(C):
            o = a + f * H
            for t in range(N):
                v = sig[c, o + t] * window[t]
                frames[c, f, t] = v
                if t < H:
                    s1 += v * v
                else:
                    s2 += v * v
        e1[f] = s1
        e2[f] = s2
        f += 1


@njit(cache=True, nogil=True)
def apply_gains(spec, gains, M):
    """M may be spec (in place). M[c, f, :] = 0 except the band bins: M[c, f, BIN_LO + i] = spec[c, f, BIN_LO + i] * gains[f, i // BAND_W]
    (real gain on both parts, as numpy's complex * real)."""
    C = spec.shape[0]
    F = spec.shape[1]
    K1 = M.shape[2]
    for c in range(C):
        for f in range(F):
            for k in range(BIN_LO):
                M[c, f, k] = 0.0
            for k in range(BIN_LO + NB, K1):
                M[c, f, k] = 0.0
            for i in range(NB):
                g = gains[f, i // BAND_W]
                v = spec[c, f, BIN_LO + i]
                M[c, f, BIN_LO + i] = complex(v.real * g, v.imag * g)


@njit(cache=True, nogil=True)
def overlap_add(m, window, mark, o):
    """mark[c, o + f*H + t] += m[c, f, t] * window[t] (every mark sample gets at most two terms,
    so the result does not depend on the order of the frames)."""
    C = m.shape[0]
    F = m.shape[1]
    for c in range(C):
        for f in range(F):
            b = o + f * H
            for t in range(N):
                mark[c, b + t] += m[c, f, t] * window[t]


# ----------------------------------------------------------------------------------------------
# Embedding engine passes straight from / to the caller's interleaved (n, C) float32 or int16
# samples: no float64 copy of the input and no fs-rate copy of the mark. The arithmetic of every
# output value is the one of poly_resample_fast on the float64 samples (x * scale is exact).
# ----------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def finite_f32_bits(u):
    """u: uint32 view of float32 samples -> True when none is NaN or infinite (exponent all ones)."""
    m = np.uint32(0)
    for i in range(u.shape[0]):
        v = u[i] & np.uint32(0x7F800000)
        if v > m:
            m = v
    return m < np.uint32(0x7F800000)


@njit(cache=True, nogil=True, fastmath=True)
def decimate_raw_generic(raw, x_base, scale, hp, up, down, c, m0, count, out, oo, xc, tmp):
    """As decimate_raw, for any up/down (each channel converted, then poly_resample_fast)."""
    T = hp.shape[1]
    C = raw.shape[1]
    s0 = max(0, (m0 * down + c) // up - T + 1)
    s1 = ((m0 + count - 1) * down + c) // up + 1
    L = s1 - s0
    a = s0 - x_base
    rf = raw.reshape(-1)
    for ch in range(C):
        for k in range(L):
            xc[k] = np.float64(rf[(a + k) * C + ch]) * scale
        poly_resample_fast(xc[:L], s0, hp, up, down, c, m0, count, out[ch, oo: oo + count], tmp)


@njit(cache=True, nogil=True, fastmath=True)
def decimate_raw(raw, x_base, scale, hp, up, down, c, m0, count, out, oo, xc, tmp):
    """out[ch, oo + i] = y_ch[m0 + i], the poly_resample_fast output over the float64 samples
    raw[j - x_base, ch] * scale (raw: C-contiguous, holds absolute samples [x_base, x_base + len);
    taps before 0 read 0), for up == 1 and 2 <= down <= 8 (input de-interleaved by `down`; other
    ratios: decimate_raw_generic; a separate kernel so that each compiles only what it runs).
    xc: float64 scratch of at least (span + 2 * down + 2) values, span = the input samples the
    outputs read; tmp: scratch of at least ceil(count / up) values."""
    T = hp.shape[1]
    C = raw.shape[1]
    s0 = max(0, (m0 * down + c) // up - T + 1)
    s1 = ((m0 + count - 1) * down + c) // up + 1
    L = s1 - s0
    a = s0 - x_base
    for ch in range(C):
        dst = out[ch, oo: oo + count]
        # outputs at the stream start whose taps reach before sample 0, per output
        i = 0
        while i < count:
            t = (m0 + i) * down + c
            if t + 1 >= T:
                break
            acc = 0.0
            for q in range(t + 1):
                acc += hp[0, T - 1 - q] * (np.float64(raw[t - q - x_base, ch]) * scale)
            dst[i] = acc
            i += 1
        per = (L + down - 1) // down
        xd = xc[: down * per].reshape((down, per))
        rf = raw.reshape(-1)
        for p in range(down):
            row = xd[p]
            b = (a + p) * C + ch
            for k in range((L - p + down - 1) // down):
                row[k] = np.float64(rf[b + k * down * C]) * scale
        _poly_bulk(xc, xd, True, s0, hp, up, down, c, m0, i, count, dst, tmp, 256)


@njit(cache=True, nogil=True, fastmath=True)
def _fir7(x, s, h, out):
    """out[k] = h[0] x[s + k] + h[1] x[s + k + 1] + ... + h[6] x[s + k + 6], summed in that order
    (the taps unrolled, the outputs vectorised; the same ordered sum as the taps-outer loops)."""
    n = out.shape[0]
    xs = x[s: s + n + 6]
    h0, h1, h2, h3, h4, h5, h6 = h[0], h[1], h[2], h[3], h[4], h[5], h[6]
    for k in range(n):
        acc = 0.0
        acc += h0 * xs[k]
        acc += h1 * xs[k + 1]
        acc += h2 * xs[k + 2]
        acc += h3 * xs[k + 3]
        acc += h4 * xs[k + 4]
        acc += h5 * xs[k + 5]
        acc += h6 * xs[k + 6]
        out[k] = acc


@njit(cache=True, nogil=True, fastmath=True)
def _interp_phases(mark, mark_base, hp, up, c, n, nb, tmpf, acc_buf):
    """Interpolation by `up` (down == 1) of outputs n .. n + nb - 1 (all past the stream start) into
    tmpf[i * C + ch] (interleaved like the output), phase by phase (acc_buf: ceil(nb / up) scratch).
    Same ordered sums as poly_resample_fast (taps outer, outputs inner)."""
    T = hp.shape[1]
    C = mark.shape[0]
    for ch in range(C):
        mrow = mark[ch]
        for r in range(min(up, nb)):
            nk = (nb - r + up - 1) // up
            t = n + r + c
            jh = t // up
            ph = t - jh * up
            lo = jh - T + 1 - mark_base
            acc = acc_buf[:nk]
            if T == 7:  # 48 kHz
                _fir7(mrow, lo, hp[ph], acc)
            else:
                for k in range(nk):
                    acc[k] = 0.0
                for q in range(T):
                    hq = hp[ph, q]
                    xs = mrow[lo + q: lo + q + nk]
                    for k in range(nk):
                        acc[k] += hq * xs[k]
            st = up * C
            b = r * C + ch
            for k in range(nk):
                tmpf[b + k * st] = acc[k]


@njit(cache=True, nogil=True)
def _interp_generic(mark, mark_base, hp, up, down, c, n, nb, tmp, tmp2):
    """tmp[ch, i] = poly_resample_fast output n + i of mark[ch], given only the mark samples these
    outputs read (poly_resample_fast de-interleaves all it is given)."""
    T = hp.shape[1]
    s0 = max(mark_base, (n * down + c) // up - T + 1)
    s1 = ((n + nb - 1) * down + c) // up + 1
    for ch in range(mark.shape[0]):
        poly_resample_fast(mark[ch, s0 - mark_base: s1 - mark_base], s0, hp, up, down, c, n, nb, tmp[ch], tmp2)


@njit(cache=True, nogil=True)
def _sum_f32(rf, xo, scale, tmp, nb, of, oo, C):
    """of[(oo + i) * C + ch] = float32(rf[(xo + i) * C + ch] * scale + tmp[ch, i]) for i < nb."""
    if C == 2:
        r = rf[2 * xo: 2 * (xo + nb)]
        o = of[2 * oo: 2 * (oo + nb)]
        t0 = tmp[0]
        t1 = tmp[1]
        for i in range(nb):
            o[2 * i] = np.float32(np.float64(r[2 * i]) * scale + t0[i])
            o[2 * i + 1] = np.float32(np.float64(r[2 * i + 1]) * scale + t1[i])
        return
    for ch in range(C):
        tr = tmp[ch]
        for i in range(nb):
            of[(oo + i) * C + ch] = np.float32(np.float64(rf[(xo + i) * C + ch]) * scale + tr[i])


@njit(cache=True, nogil=True)
def _sum_i16(rf, xo, scale, tmp, nb, of, oo, C):
    """As _sum_f32 with of[...] = int16(clip(rint((x + m) * 32768)))."""
    for ch in range(C):
        tr = tmp[ch]
        for i in range(nb):
            v = np.rint((np.float64(rf[(xo + i) * C + ch]) * scale + tr[i]) * 32768.0)
            if v < -32768.0:
                v = -32768.0
            elif v > 32767.0:
                v = 32767.0
            of[(oo + i) * C + ch] = np.int16(v)


@njit(cache=True, nogil=True)
def _sum_inter_f32(rf, xo, scale, tmpf, nb, of, oo, C):
    """of[oo * C + j] = float32(rf[xo * C + j] * scale + tmpf[j]) for j < nb * C."""
    r = rf[xo * C: (xo + nb) * C]
    o = of[oo * C: (oo + nb) * C]
    for j in range(nb * C):
        o[j] = np.float32(np.float64(r[j]) * scale + tmpf[j])


@njit(cache=True, nogil=True)
def _sum_inter_i16(rf, xo, scale, tmpf, nb, of, oo, C):
    """As _sum_inter_f32 with o[j] = int16(clip(rint((x + m) * 32768)))."""
    r = rf[xo * C: (xo + nb) * C]
    o = of[oo * C: (oo + nb) * C]
    for j in range(nb * C):
        v = np.rint((np.float64(r[j]) * scale + tmpf[j]) * 32768.0)
        if v < -32768.0:
            v = -32768.0
        elif v > 32767.0:
            v = 32767.0
        o[j] = np.int16(v)


@njit(cache=True, nogil=True, fastmath=True)
def _interp_head_direct(mark, mark_base, hp, up, c, n, nb, tmp):
    """tmp[ch, i] = interpolated output n + i (down == 1) whose taps reach before mark sample 0: the
    per-output sum of poly_resample_fast over the taps at or after sample 0."""
    T = hp.shape[1]
    for ch in range(mark.shape[0]):
        x = mark[ch]
        for i in range(nb):
            t = n + i + c
            j_hi = t // up
            ph = t - j_hi * up
            o = j_hi - mark_base
            acc = 0.0
            for q in range(j_hi + 1):
                acc += hp[ph, T - 1 - q] * x[o - q]
            tmp[ch, i] = acc


@njit(cache=True, nogil=True)
def interp_add_f32(raw, x_base, scale, mark, mark_base, hp, up, down, c, n0, count, out, o, tmp, tmp2):
    """out[o + i, ch] = float32(raw[n0 + i - x_base, ch] * scale + m_ch[n0 + i]) for i < count, where
    m_ch = poly_resample_fast of mark[ch] (absolute samples from mark_base) to the output rate, for
    down == 1 and up <= 8 (other ratios: interp_add_generic_f32). raw and out: C-contiguous (n, C).
    Works in blocks of tmp.shape[1] outputs (tmp: (C, B) scratch; tmp2: ceil(B / up) scratch)."""
    C = raw.shape[1]
    B = tmp.shape[1]
    rf = raw.reshape(-1)
    of = out.reshape(-1)
    tmpf = tmp.reshape(-1)
    n_head = min(count, max(0, (hp.shape[1] - 1) * up - c - n0))  # taps before the stream start
    for b0 in range(0, n_head, B):
        nb = min(B, n_head - b0)
        _interp_head_direct(mark, mark_base, hp, up, c, n0 + b0, nb, tmp)
        _sum_f32(rf, n0 + b0 - x_base, scale, tmp, nb, of, o + b0, C)
    for b0 in range(n_head, count, B):
        nb = min(B, count - b0)
        _interp_phases(mark, mark_base, hp, up, c, n0 + b0, nb, tmpf, tmp2)
        _sum_inter_f32(rf, n0 + b0 - x_base, scale, tmpf, nb, of, o + b0, C)


@njit(cache=True, nogil=True)
def interp_add_i16(raw, x_base, scale, mark, mark_base, hp, up, down, c, n0, count, out, o, tmp, tmp2):
    """As interp_add_f32 with int16 out[o + i, ch] = int16(clip(rint((x + m) * 32768)))."""
    C = raw.shape[1]
    B = tmp.shape[1]
    rf = raw.reshape(-1)
    of = out.reshape(-1)
    tmpf = tmp.reshape(-1)
    n_head = min(count, max(0, (hp.shape[1] - 1) * up - c - n0))
    for b0 in range(0, n_head, B):
        nb = min(B, n_head - b0)
        _interp_head_direct(mark, mark_base, hp, up, c, n0 + b0, nb, tmp)
        _sum_i16(rf, n0 + b0 - x_base, scale, tmp, nb, of, o + b0, C)
    for b0 in range(n_head, count, B):
        nb = min(B, count - b0)
        _interp_phases(mark, mark_base, hp, up, c, n0 + b0, nb, tmpf, tmp2)
        _sum_inter_i16(rf, n0 + b0 - x_base, scale, tmpf, nb, of, o + b0, C)


@njit(cache=True, nogil=True)
def interp_add_generic_f32(raw, x_base, scale, mark, mark_base, hp, up, down, c, n0, count, out, o, tmp, tmp2):
    """As interp_add_f32 for any up/down (poly_resample_fast per block)."""
    C = raw.shape[1]
    B = tmp.shape[1]
    rf = raw.reshape(-1)
    of = out.reshape(-1)
    for b0 in range(0, count, B):
        nb = min(B, count - b0)
        _interp_generic(mark, mark_base, hp, up, down, c, n0 + b0, nb, tmp, tmp2)
        _sum_f32(rf, n0 + b0 - x_base, scale, tmp, nb, of, o + b0, C)


@njit(cache=True, nogil=True)
def interp_add_generic_i16(raw, x_base, scale, mark, mark_base, hp, up, down, c, n0, count, out, o, tmp, tmp2):
    """As interp_add_i16 for any up/down (poly_resample_fast per block)."""
    C = raw.shape[1]
    B = tmp.shape[1]
    rf = raw.reshape(-1)
    of = out.reshape(-1)
    for b0 in range(0, count, B):
        nb = min(B, count - b0)
        _interp_generic(mark, mark_base, hp, up, down, c, n0 + b0, nb, tmp, tmp2)
        _sum_i16(rf, n0 + b0 - x_base, scale, tmp, nb, of, o + b0, C)


@njit(cache=True, nogil=True)
def onset_apply(spec, gains, e1, e2, rise):
    """Onset guard then apply_gains in place: where e2[f] > rise * e1[f] the gains of frame f are
    scaled by sqrt(rise * e1[f] / e2[f]) (the mark stays `rise` below the first half's level)."""
    for f in range(gains.shape[0]):
        r = rise * e1[f]
        if e2[f] > r:
            s = np.sqrt(r / e2[f])
            for b in range(gains.shape[1]):
                gains[f, b] *= s
    apply_gains(spec, gains, spec)


@njit(cache=True, nogil=True)
def channel_mean(arr, out):
    """out[i] = (float64(arr[i, 0]) + float64(arr[i, 1]) + ...) / C, summed in channel order (what
    arr.mean(axis=1, dtype=np.float64) computes, without its slow short-axis reduction)."""
    C = arr.shape[1]
    if C == 2:
        for i in range(arr.shape[0]):
            out[i] = (np.float64(arr[i, 0]) + np.float64(arr[i, 1])) / 2
        return
    for i in range(arr.shape[0]):
        s = np.float64(arr[i, 0])
        for c in range(1, C):
            s += np.float64(arr[i, c])
        out[i] = s / C
