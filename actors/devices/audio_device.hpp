#pragma once

#include "actors/protocols.hpp"
#include "hardware/audio_domain.hpp"

namespace sg {

/// Spawns the actor of one audio device (detached: opening a device may block). It owns the
/// device's realtime thread and render engine; `open_atom` compiles the domain's plan and
/// starts the stream; KernelParam messages reach the realtime thread through a lock-free queue;
/// telemetry (meters) and device status are published to `hub`.
///
/// thread: the actor's own thread for every message; the realtime thread only runs the engine.
device_actor spawn_audio_device(caf::actor_system& sys, audio_domain domain, hub_actor hub);

} // namespace sg
