#include "synthmark/audio_mix.hpp"

#include <algorithm>
#include <string>

namespace synthmark {

void AudioView::check(const char* name) const {
    if (frames < 0 || channels < 1) throw InvalidInput(std::string(name) + ": bad audio shape");
    if (data == nullptr && frames > 0) throw InvalidInput(std::string(name) + ": null data");
    if (frame_stride < 1 || (channels > 1 && channel_stride < 1))
        throw InvalidInput(std::string(name) + ": strides must be positive");
}

void LimiterParams::check() const {
    if (!(ceiling > 0.0f) || !(knee > 0.0f) || !(knee < ceiling) || !std::isfinite(ceiling))
        throw InvalidInput("limiter: need 0 < knee < ceiling");
}

std::ptrdiff_t mix_prompt(const AudioView& audio, const float* prompt, std::ptrdiff_t prompt_len,
                          std::ptrdiff_t offset, float gain, const LimiterParams& limiter) {
    audio.check("audio");
    limiter.check();
    if (prompt_len < 0 || (prompt == nullptr && prompt_len > 0)) throw InvalidInput("prompt: bad length");
    if (!std::isfinite(gain)) throw InvalidInput("gain: must be finite");
    const std::ptrdiff_t i0 = std::max<std::ptrdiff_t>(0, -offset);
    const std::ptrdiff_t i1 = std::min(prompt_len, audio.frames - offset);
    if (i0 >= i1) return 0;
    for (std::ptrdiff_t c = 0; c < audio.channels; ++c) {
        for (std::ptrdiff_t i = i0; i < i1; ++i) {
            float& s = audio.at(offset + i, c);
            s = soft_limit(s + gain * prompt[i], limiter);
        }
    }
    return i1 - i0;
}

float peak_abs(const AudioView& audio) {
    audio.check("audio");
    float peak = 0.0f;
    for (std::ptrdiff_t c = 0; c < audio.channels; ++c)
        for (std::ptrdiff_t i = 0; i < audio.frames; ++i) peak = std::max(peak, std::fabs(audio.at(i, c)));
    return peak;
}

}  // namespace synthmark
