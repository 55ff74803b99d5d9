#pragma once

/// Audio devices: each driver owns one realtime thread that calls `render_engine::render` once
/// per block. Backends: JACK, ALSA and PulseAudio through RtAudio, and `null`, a
/// software-clocked device that keeps time with the wall clock (optionally recording to WAV).

#include <functional>
#include <memory>
#include <string>

#include "hardware/device_ports.hpp"
#include "hardware/specs.hpp"
#include "nodes/core/expected.hpp"
#include "nodes/core/render_plan.hpp"

namespace sg {

class wav_source;  // hardware/wav_source.hpp

/// How far a device's inputs and outputs are from the outside world, in frames (JACK: the
/// widest latency range of its ports; 0 where a backend does not say).
struct device_latency {
  uint32_t input_frames = 0;
  uint32_t output_frames = 0;
};

class audio_driver {
public:
  virtual ~audio_driver() = default;
  /// thread: control. Stops the realtime thread; `render` is not called after it returns.
  virtual void stop() noexcept = 0;
  /// thread: control. The device went away (its stream ended or stalled): let go of it
  /// without calling into a backend that may be tearing the stream down itself; `render` is
  /// not called after it returns. Backends that cannot close concurrently leave the stream to
  /// that teardown (and leak it when the teardown never finishes).
  virtual void abandon() noexcept { stop(); }
  /// The backend actually opened: jack, alsa, pulse or null.
  virtual std::string backend() const = 0;
  /// Frames per callback the backend settled on.
  virtual uint32_t block() const = 0;
  /// True when the realtime thread runs with a realtime scheduling class.
  virtual bool realtime_priority() const = 0;
  /// thread: control. False once the backend stopped the stream on its own (server gone,
  /// device unplugged).
  virtual bool alive() const { return true; }
  /// thread: control, called periodically. When the backend left its audio thread in the
  /// normal scheduling class (a JACK server started with --no-realtime, say), moves it to
  /// SCHED_FIFO once, if the system permits; a refusal leaves it as it is.
  virtual void promote_realtime() {}
  /// thread: control, called periodically. Makes the connections the graph asks for that are
  /// missing (JACK: after another program's ports came back).
  virtual void maintain() {}
  /// thread: control.
  virtual device_latency latency() const { return {}; }
};

/// A device that opened.
struct opened_driver {
  std::unique_ptr<audio_driver> driver;
  /// `auto` fell back to `null`: what each hardware backend said; empty otherwise.
  std::string skipped;
};

/// thread: control. Opens the device `spec` describes and starts rendering `engine`. `auto`
/// tries a running JACK server, then PulseAudio, then ALSA's default device, then `null`.
/// `ports` names the device's ports and says what they connect to (JACK). Fails with the
/// backend's reason when nothing opened.
expected<opened_driver> open_audio_driver(const device_spec& spec, render_engine& engine,
                                          const device_ports& ports = {});

/// thread: control. Renders `seconds` of audio as fast as possible into a WAV file
/// (32-bit float) with the engine's device channel count; fails when the file cannot be
/// created or written. `before_block(first_frame, frames)`, when given, runs before each block
/// is rendered (to push the notes and triggers due in it). `input`, when given, feeds the
/// device's inputs (blocks up to `block` frames).
expected<void> render_offline(
  render_engine& engine, uint32_t block, double seconds, const std::string& wav_path,
  const std::function<void(uint64_t first_frame, uint32_t frames)>& before_block = {},
  wav_source* input = nullptr);

/// thread: control. The null device's inputs for `spec`: its `input` file, silence when it
/// has inputs but no file, nothing without inputs; fails with the file's path and reason.
expected<std::unique_ptr<wav_source>> open_input(const device_spec& spec);

} // namespace sg
