#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nodes/core/expected.hpp"
#include "nodes/core/kernel.hpp"

namespace sg {

/// The parameter index that switches a slot's bypass (value 0: off, else on) instead of
/// reaching its kernel: a bypassed kernel is not processed and each of its outputs carries the
/// matching input (channel c from input channel c % n) or silence.
inline constexpr uint32_t bypass_param_index = 0xffffffffu;

/// One node of a clock domain, as the plan compiler receives it.
struct plan_node_spec {
  std::string id;
  const node_info* info = nullptr;
  param_values values;
  /// Reuse this kernel (keeps its state) instead of making a new one; may be null.
  std::shared_ptr<kernel> existing;
  /// When set, the port layout `existing` was prepared for: it is reused only if the new plan
  /// resolves the same channel counts, else a fresh kernel is made (a kernel is never
  /// re-prepared while a running plan may use it).
  bool check_layout = false;
  std::vector<uint32_t> existing_in, existing_out;
};

/// One audio edge inside the domain (indices into the node list, resolved port names).
struct plan_edge_spec {
  uint32_t from_node;
  std::string from_port;
  uint32_t to_node;
  std::string to_port;
};

/// A compiled, immutable schedule for one clock domain: kernels in topological order and every
/// buffer they use, preallocated. Built on a control thread, executed by the device's realtime
/// thread, freed on a control thread.
class render_plan {
public:
  struct mix_op {
    uint32_t src_bus;
    uint32_t dst_bus;
  };
  struct step {
    kernel* k;
    uint32_t slot;
    uint32_t in_begin, in_count;    // into inputs_
    uint32_t out_begin, out_count;  // into buses_
    uint32_t mix_begin, mix_count;  // into mixes_, run before the kernel
    uint32_t clear_begin, clear_count;  // into clears_: owned input buses to zero first
  };

  /// thread: control. Compiles the domain; fails on a cycle, a bad edge or a kernel that
  /// cannot prepare (the message names the node). Node slots are the indices of `nodes`.
  static expected<std::unique_ptr<render_plan>> compile(std::vector<plan_node_spec> nodes,
                                                        const std::vector<plan_edge_spec>& edges,
                                                        const audio_format& format,
                                                        uint32_t device_channels);

  /// thread: realtime. Runs every step for `frames` (<= max_block) frames. `events` (with the
  /// parallel `event_slots`) holds this chunk's notes and triggers sorted by slot, then offset.
  /// `device_in`: the device's captured channels for this chunk (read only; may be empty).
  void run(uint32_t frames, const audio_bus& device_in, const audio_bus& device_out,
           telemetry_queue* telemetry,
           const kernel_event* events = nullptr, const uint32_t* event_slots = nullptr,
           uint32_t n_events = 0) noexcept SG_NONBLOCKING;

  /// thread: realtime. Forwards a parameter to the kernel in `slot` (ignored if out of range);
  /// `bypass_param_index` switches the slot's bypass.
  void set_param(uint32_t slot, uint32_t index, double value) noexcept SG_NONBLOCKING;

  uint32_t max_block() const { return format_.max_block; }
  size_t size() const { return kernels_.size(); }
  /// The kernel in `slot`, so a later plan can keep it (and its state).
  const std::shared_ptr<kernel>& kernel_at(uint32_t slot) const { return kernels_[slot]; }
  /// Topological order of slots, for inspection and tests.
  std::vector<uint32_t> order() const;
  /// Channel count of every output port of `slot`, in port order.
  std::vector<uint32_t> out_channels(uint32_t slot) const;
  /// Channel count of every input port of `slot`, in port order.
  std::vector<uint32_t> in_channels(uint32_t slot) const;
  /// True when `slot` runs a kernel the compile was handed (its state carried over).
  bool reused(uint32_t slot) const { return reused_[slot]; }

  /// Plan generation: parameter updates and events carry the generation they were addressed
  /// to, and the engine drops those meant for another plan (slots change between plans).
  uint32_t generation() const { return generation_; }
  void set_generation(uint32_t g) { generation_ = g; }

  /// thread: any. Nanoseconds `slot`'s kernel spent in process since the last call (reset);
  /// sampled on one block in eight and scaled, so it is an estimate.
  uint64_t take_node_ns(uint32_t slot) const {
    return slot < kernels_.size() ? node_ns_[slot].exchange(0, std::memory_order_relaxed) : 0;
  }

private:
  /// The domain's ports, edges and buses while it compiles (render_plan.cpp).
  struct wiring;
  render_plan() = default;
  uint32_t add_bus(uint32_t channels);
  // The steps of `compile`, in order.
  /// Resolves every node's audio ports, the edges between them and the topological order;
  /// fails on an edge to a missing node or port, or a cycle.
  static expected<void> wire(const std::vector<plan_node_spec>& nodes,
                             const std::vector<plan_edge_spec>& edges, wiring& w);
  /// Channel counts of every port and one bus per output port.
  void add_output_buses(wiring& w);
  /// One step per node; inputs alias their source's bus or own one that edges mix into.
  void add_steps(wiring& w);
  /// The sample pool and the bus views into it.
  void allocate_buffers(const wiring& w);
  /// Takes over the kernels handed in, or makes and prepares new ones.
  expected<void> add_kernels(std::vector<plan_node_spec>& nodes, const wiring& w,
                             uint32_t device_channels);
  static void mix(const audio_bus& src, const audio_bus& dst, uint32_t frames) noexcept
    SG_NONBLOCKING;
  /// Outputs of a bypassed step: the matching input or silence.
  void pass_through(const step& s, uint32_t frames) noexcept SG_NONBLOCKING;

  audio_format format_;
  std::vector<float> pool_;
  std::vector<float*> channel_ptrs_;
  std::vector<std::pair<uint32_t, uint32_t>> bus_ranges_;  // (first channel ptr, count)
  std::vector<audio_bus> buses_;
  std::vector<audio_bus> inputs_;
  std::vector<mix_op> mixes_;
  std::vector<uint32_t> clears_;
  std::vector<step> steps_;
  std::vector<std::shared_ptr<kernel>> kernels_;
  std::vector<std::vector<uint32_t>> in_ch_, out_ch_;
  std::vector<bool> reused_;
  std::unique_ptr<std::atomic<uint64_t>[]> node_ns_;
  std::unique_ptr<uint8_t[]> bypassed_;  // per slot; written and read by the realtime thread
  static constexpr uint64_t node_time_stride = 8;
  uint64_t runs_ = 0;  // realtime only
  uint32_t generation_ = 0;
};

/// Counters the realtime thread publishes; read from any thread.
struct engine_stats {
  std::atomic<uint64_t> blocks{0};
  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> xruns{0};
  std::atomic<uint64_t> dropped_params{0};
  std::atomic<uint64_t> stale_params{0};   // addressed to a plan that was replaced
  std::atomic<uint64_t> dropped_events{0};
  std::atomic<uint64_t> dropped_telemetry{0};
  std::atomic<float> load{0};       // smoothed render time / block period
  std::atomic<float> peak_load{0};  // worst since last reset by the control side
};

/// A live parameter for a kernel slot of plan generation `gen`.
struct param_update {
  uint32_t slot;
  uint32_t index;
  double value;
  uint32_t gen = 0;
};

/// A note or trigger for a kernel slot of plan generation `gen`, due at engine frame `frame`
/// (the engine's running frame count; 0 or a frame already past means the next block start).
struct timed_event {
  uint32_t slot = 0;
  uint32_t gen = 0;
  uint64_t frame = 0;
  kernel_event ev;
};

/// The bridge between a device's realtime thread and its control actor: plan swaps and
/// parameter updates go in through single-producer/single-consumer queues, telemetry comes
/// out through one, and retired plans go back to be freed off the realtime thread.
class render_engine {
public:
  /// Most channels a device has each way (more are not rendered).
  static constexpr uint32_t max_channels = 64;
  /// `device_channels` outputs and `input_channels` captured inputs.
  render_engine(uint32_t device_channels, double sample_rate, uint32_t input_channels = 0);
  ~render_engine();

  /// thread: control. Queues `plan` to be swapped in at the next block boundary.
  bool submit_plan(std::unique_ptr<render_plan> plan);
  /// thread: control. Queues a parameter change; false (and counted) if the queue is full.
  bool push_param(const param_update& u);
  /// thread: control. Queues a note or trigger; false (and counted) if the queue is full.
  bool push_event(const timed_event& e);
  /// thread: any. Frames rendered so far (the clock `timed_event::frame` refers to).
  uint64_t frames() const { return stats_.frames.load(std::memory_order_acquire); }
  /// thread: control. The plan the realtime thread runs now (null before the first block).
  /// Valid until the next collect_garbage; for reading kernels and load, not for running.
  const render_plan* current() const { return current_.load(std::memory_order_acquire); }
  /// thread: control. Frees plans the realtime thread has retired.
  void collect_garbage();
  /// thread: control. Next telemetry record, if any.
  bool pop_telemetry(telemetry_record& r) { return telemetry_.pop(r); }
  /// thread: control. True when another plan can be queued now.
  bool submit_plan_ready() const { return pending_.write_available() > 0; }
  /// thread: control. True while a submitted plan waits for the next block boundary.
  bool plan_pending() const { return pending_.read_available() > 0; }

  /// thread: realtime. Renders `frames` frames into planar `out` (device channel count) from
  /// planar `in` (input channel count; null: no input this block). Inputs and outputs are the
  /// same block of the device: audio.input nodes read `in` directly, without a queue.
  void render(const float* const* in, float* const* out, uint32_t frames) noexcept
    SG_NONBLOCKING;
  /// thread: realtime. The same without inputs.
  void render(float* const* out, uint32_t frames) noexcept SG_NONBLOCKING;

  /// thread: any (the counters are atomics).
  engine_stats& stats() noexcept SG_NONBLOCKING { return stats_; }
  uint32_t device_channels() const noexcept SG_NONBLOCKING { return device_channels_; }
  uint32_t input_channels() const noexcept SG_NONBLOCKING { return input_channels_; }
  double sample_rate() const { return sample_rate_; }

private:
  uint32_t device_channels_;
  uint32_t input_channels_;
  double sample_rate_;
  /// Collects this block's events into per-chunk arrays (sorted by slot, then offset).
  uint32_t gather_events(uint64_t chunk_start, uint32_t frames) noexcept SG_NONBLOCKING;

  static constexpr uint32_t max_events = 256;
  std::atomic<render_plan*> current_{nullptr};  // owned; written only by the realtime thread
  boost::lockfree::spsc_queue<render_plan*, boost::lockfree::capacity<16>> pending_;
  boost::lockfree::spsc_queue<render_plan*, boost::lockfree::capacity<16>> retired_;
  boost::lockfree::spsc_queue<param_update, boost::lockfree::capacity<4096>> params_;
  boost::lockfree::spsc_queue<timed_event, boost::lockfree::capacity<1024>> events_;
  timed_event held_[max_events];  // realtime only: events not yet due
  uint32_t n_held_ = 0;
  kernel_event chunk_events_[max_events];
  uint32_t chunk_slots_[max_events];
  telemetry_queue telemetry_;
  engine_stats stats_;
};

} // namespace sg
