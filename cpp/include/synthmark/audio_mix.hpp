#pragma once
// Mixing an audible label (a mono prompt) into float audio, in place, with clipping protection. Python-free.
//
// Clipping protection is a soft-knee limiter applied to the samples the prompt touches:
//     |y| <= knee:  y unchanged
//     |y| >  knee:  sign(y) * (knee + (ceiling - knee) * tanh((|y| - knee) / (ceiling - knee)))
// It is continuous with slope 1 at the knee, monotonic, and never exceeds `ceiling`, so the mixed audio
// cannot clip (float) or wrap (after conversion to int16 with ceiling <= 32767/32768). Samples outside the
// prompt's span are never touched.
#include <cmath>
#include <cstddef>

#include "synthmark/errors.hpp"

namespace synthmark {

// Non-owning view of multichannel float audio with arbitrary element strides:
// (channels, n) C-contiguous: frame_stride = 1, channel_stride = n;
// (n, channels) C-contiguous: frame_stride = channels, channel_stride = 1.
struct AudioView {
    float* data = nullptr;
    std::ptrdiff_t frames = 0;
    std::ptrdiff_t channels = 1;
    std::ptrdiff_t frame_stride = 1;    // elements between consecutive samples of one channel
    std::ptrdiff_t channel_stride = 0;  // elements between channels of one sample
    float& at(std::ptrdiff_t i, std::ptrdiff_t c) const { return data[i * frame_stride + c * channel_stride]; }
    void check(const char* name) const;
};

struct LimiterParams {
    float ceiling = 1.0f;  // absolute peak never exceeded
    float knee = 0.9f;     // limiter threshold, 0 < knee < ceiling
    void check() const;
};

inline float soft_limit(float v, const LimiterParams& p) {
    const float a = std::fabs(v);
    if (a <= p.knee) return v;
    const float room = p.ceiling - p.knee;
    const float out = p.knee + room * std::tanh((a - p.knee) / room);
    return v < 0 ? -out : out;
}

// audio[offset + i, c] = limit(audio[offset + i, c] + gain * prompt[i]) for every channel c, for the part
// of the prompt that falls inside the audio (offset may be negative or past the end: clipped).
// Returns the number of frames mixed.
std::ptrdiff_t mix_prompt(const AudioView& audio, const float* prompt, std::ptrdiff_t prompt_len,
                          std::ptrdiff_t offset, float gain, const LimiterParams& limiter);

// Peak absolute value over the whole view (for tests and level checks).
float peak_abs(const AudioView& audio);

}  // namespace synthmark
