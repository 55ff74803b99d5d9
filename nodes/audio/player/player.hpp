#pragma once

/// audio.player — plays a sound file (anything libsndfile reads: WAV, AIFF, FLAC, Ogg...).
///
/// Ports:      out (audio, 2 channels). The port model fixes a port's width per node type, so
///             the file's channels are mapped to stereo: a mono file feeds both channels, a
///             stereo file maps 1:1, and channel c of a wider file is summed onto c % 2.
/// Parameters: file   string                             structural  path of the sound file
///             mode   enum    loop, oneshot, trigger     default loop  structural
///                    loop: plays from `start` to the end and wraps back to `start`, forever;
///                    oneshot: plays once from the first block, then is silent;
///                    trigger: silent until a trigger event, then plays once.
///             level  double  -120..24 dB   default 0   live (smoothed; 0 dB is bit-exact)
///             start  double  0..inf s      default 0   structural  where playback (and each
///                                                      loop or trigger) starts in the file
/// Events:     in every mode, `trigger` restarts playback from `start` at its sample offset
///             (velocity scales the level; 0 means full level) and `stop` silences it; the
///             sound that a trigger or stop interrupts fades out over 1 ms instead of clicking.
///             Notes are ignored.
/// Loading:    prepare (control thread) decodes the whole file into memory and, when its rate
///             differs from the device's, converts it with libsamplerate (sinc, medium
///             quality). It fails with the path and libsndfile's reason when the file cannot
///             be read, so the plan does not compile. Meant for samples
///             and loops rather than hour-long recordings.
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread,
///             which only copies from the decoded buffer.

#include <array>
#include <string>
#include <vector>

#include "nodes/core/kernel.hpp"

namespace sg {

class player_kernel final : public kernel {
public:
  enum param : uint32_t { file = 0, mode = 1, level = 2, start = 3 };
  enum class play_mode : uint8_t { loop, oneshot, trigger };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  struct playhead {
    bool active = false;
    uint64_t pos = 0;
    float gain = 1;       // trigger velocity
    uint32_t fade = 0;    // frames of fade-out left (tail only)
  };

  /// Reads the whole file, resampled to the device rate and folded to stereo.
  expected<void> load(double device_rate);
  void render(const audio_bus& out, uint32_t from, uint32_t to) noexcept SG_NONBLOCKING;
  void start_playing(float gain) noexcept SG_NONBLOCKING;
  void stop_playing() noexcept SG_NONBLOCKING;

  std::string path_;
  play_mode mode_ = play_mode::loop;
  double level_db_ = 0;
  double start_s_ = 0;
  std::array<std::vector<float>, 2> samples_;  // stereo, at the device rate
  uint64_t length_ = 0;
  uint64_t start_frame_ = 0;
  uint32_t fade_frames_ = 48;
  playhead main_, tail_;
  smoothed_gain gain_;
};

node_info player_info();

} // namespace sg
