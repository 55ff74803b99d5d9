#pragma once

/// The GStreamer pipeline of one video domain: every node's bin, the edges between them
/// (a tee where one output feeds several inputs) and the device's sink chain. Built and driven
/// by the video device actor; also built alone (never played) to check a graph before an apply
/// touches the running devices.

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "hardware/video_domain.hpp"
#include "nodes/core/expected.hpp"
#include "nodes/video/core/element.hpp"

namespace sg {

class video_pipeline {
public:
  /// thread: control. Builds the pipeline in the NULL state; fails (naming the node, its type
  /// and what is wrong) when it cannot be built.
  static expected<std::unique_ptr<video_pipeline>> build(const video_domain& domain);

  /// thread: control. Sets the pipeline to NULL and frees it (after an end of stream was
  /// pushed when the sink writes a file, so the file is complete).
  ~video_pipeline();

  GstElement* pipeline() const { return pipeline_; }
  GstBus* bus() const { return bus_; }
  /// The element of the node in `slot`, null for video.output.
  video::element* element_at(uint32_t slot) const;
  size_t size() const { return elements_.size(); }
  /// Frames through a sink chain, written by its streaming thread only.
  struct frame_counter {
    std::atomic<uint64_t> frames{0};
    /// Frames missing between two consecutive ones (their timestamps more than one and a half
    /// frame apart): what a viewer sees as a dropped frame.
    std::atomic<uint64_t> gaps{0};
    uint64_t last_pts = UINT64_MAX;  // the streaming thread's own
  };

  /// One device's sink chain: what its video.output feeds.
  struct sink_chain {
    device_spec device;
    std::string sink;       // window | file | rtp | null | app
    std::string output_id;  // the video.output node
    GstElement* head = nullptr;
    GstElement* app = nullptr;  // sink: app
    std::unique_ptr<frame_counter> counter = std::make_unique<frame_counter>();
  };
  /// The chains, the owning device's first.
  const std::vector<sink_chain>& sinks() const { return sinks_; }
  /// The first app sink, else null.
  GstElement* app_sink() const;
  /// Some chain writes a file (it needs an end of stream before it closes).
  bool writes_file() const;
  /// No video.output is bound to the device: nothing to run.
  bool empty() const { return empty_; }
  /// Some source is played in real time (everything but a test source with live: false): the
  /// sinks synchronise to the clock. Otherwise file, null and app sinks run as fast as they
  /// can (benchmarks, offline renders).
  bool live() const { return live_; }

  /// Frames that reached the owner's sink chain (counted on the streaming thread: one atomic
  /// add per frame and chain).
  uint64_t frames() const { return sinks_.empty() ? 0 : frames_of(0); }
  uint64_t frames_of(size_t chain) const {
    return sinks_[chain].counter->frames.load(std::memory_order_relaxed);
  }
  /// Frames missing in the owner's output (gaps in its timestamps).
  uint64_t gaps() const {
    return sinks_.empty() ? 0 : sinks_[0].counter->gaps.load(std::memory_order_relaxed);
  }

  /// The node whose bin holds `object` (a bus message's source), or "".
  std::string node_of(GstObject* object) const;

  /// thread: control. Pushes an end of stream and waits up to `timeout_ms` for it to reach
  /// the sink (files get their index). True when it did.
  bool finish(int timeout_ms);

private:
  video_pipeline() = default;
  /// Every node's bin, in slot order (video.output: none, its device's sink chain instead).
  expected<void> add_nodes(const video_domain& domain);
  /// The sink chain of each video.output, on its own device's settings.
  expected<void> add_sinks(const video_domain& domain);
  /// One sink chain: the device's format, then its sink.
  expected<void> add_sink(const device_spec& device, const std::string& output_id);
  /// videoconvert ! videoscale ! videorate ! capsfilter at the device's format, its frames
  /// counted: the head of `chain`; returns the capsfilter.
  expected<GstElement*> add_sink_format(sink_chain& chain);
  /// What the formatted picture goes to: the sink `chain.sink` names, behind an encoder for
  /// file and rtp.
  expected<void> add_sink_end(sink_chain& chain, GstElement* formatted);
  /// The encoder of `device`'s codec (vp8, or mjpeg), linked after `after`.
  expected<GstElement*> add_encoder(const device_spec& device, GstElement* after);
  expected<void> link_edges(const video_domain& domain);
  expected<void> check_inputs(const video_domain& domain);

  GstElement* pipeline_ = nullptr;
  GstBus* bus_ = nullptr;
  std::vector<std::unique_ptr<video::element>> elements_;
  std::vector<std::string> ids_;
  std::vector<sink_chain> sinks_;
  bool empty_ = false;
  bool live_ = false;
};

/// GStreamer, initialised once per process.
void ensure_gstreamer();

} // namespace sg
