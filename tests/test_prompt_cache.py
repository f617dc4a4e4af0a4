"""label_file shares one default AudibleLabel across calls (and threads): its rendered prompts per
sample rate must stay bounded whatever rates the inputs have."""

from __future__ import annotations

import numpy as np

import synthmark as sm
from synthmark.labels import audible as L


def test_prompt_cache_is_bounded_and_still_correct():
    label = sm.AudibleLabel(mode="overlay", extend=True)
    x = np.zeros(2000, np.float32)
    first = label.apply(x, 8000)
    for rate in range(8001, 8001 + 3 * L.PROMPT_CACHE_RATES):
        label._unit_prompt(rate)
    assert len(label.__dict__["_unit_cache"]) <= L.PROMPT_CACHE_RATES
    assert np.array_equal(label.apply(x, 8000), first)
