#pragma once

#include "actors/protocols.hpp"
#include "hardware/video_domain.hpp"
#include "nodes/core/expected.hpp"

namespace sg {

/// Spawns the actor of one video device (detached: building and starting a GStreamer
/// pipeline, and finishing a file, may block). It owns its domain's pipeline:
/// - `open_atom` builds it (hardware/video_pipeline.hpp), starts it (PLAYING, waiting for the
///   state change) and subscribes to the hub for the ParamChanged echoes of its nodes;
/// - KernelParam (numbers, from the node authorities) and echoed string values are applied as
///   element and pad properties from this actor's thread, never from a streaming thread; a
///   value an element refuses changes nothing and is published as VideoBusMessage
///   KIND_REFUSED naming the node;
/// - a tick drains the bus (errors, warnings, end of stream, QoS drops become VideoBusMessage
///   events; errors and end of stream also DeviceStatus), polls the nodes (a compositor input
///   that changed size re-resolves its fit), turns app sink samples into VideoFrame events,
///   and publishes DeviceStatus once a second (frames, dropped, fps, running time);
/// - every compositor change publishes the resolved VideoLayout stamped with its origin;
/// - on exit a file sink gets an end of stream first, so the Matroska file is complete.
///
/// thread: the actor's own thread for every message; GStreamer's streaming threads only run
/// the pipeline (and count frames with one atomic add).
video_device_actor spawn_video_device(caf::actor_system& sys, video_domain domain,
                                      hub_actor hub);

/// thread: control. Builds the domain's pipeline without playing it: the errors an apply
/// would hit (bad fragments, unknown properties, missing files or elements), before any
/// running device is touched.
expected<void> check_video_domain(const video_domain& domain);

} // namespace sg
