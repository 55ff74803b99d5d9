#pragma once

/// Backend constructors behind `open_audio_driver`.

#include <pthread.h>

#include <memory>
#include <string>

#include "hardware/audio_driver.hpp"

namespace sg {

/// A JACK client on libjack; fails with "jack: <reason>" when it cannot open.
expected<std::unique_ptr<audio_driver>> open_jack(const device_spec& spec, render_engine& engine,
                                                  const device_ports& ports);

/// ALSA or PulseAudio through RtAudio; fails with "<backend>: <reason>" when it cannot open.
expected<std::unique_ptr<audio_driver>>
open_rtaudio(const std::string& backend, const device_spec& spec, render_engine& engine);

/// The software-clocked device (never fails unless the WAV file cannot be created).
expected<std::unique_ptr<audio_driver>> open_null(const device_spec& spec, render_engine& engine);

/// True when thread `t` runs under SCHED_FIFO or SCHED_RR.
bool thread_is_realtime(pthread_t t);

/// thread: control. Moves `t` (a backend's audio thread) to SCHED_FIFO at `priority` unless it
/// already runs realtime; a refusal by the system leaves it as it is.
void promote_to_fifo(pthread_t t, int priority);

} // namespace sg
