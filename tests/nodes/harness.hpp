#pragma once

/// Test harness for the media plane, so tests measure what comes out rather than which code
/// ran:
///  - `graph_harness` compiles a clock domain with `render_plan::compile` from node types,
///    parameter values and edges, runs it through a `render_engine` with N device channels, and
///    collects the device output and the telemetry records;
///  - `kernel_harness` feeds one kernel blocks directly (inputs from a function of the frame
///    index, live parameter changes at block boundaries, notes and triggers at exact frames),
///    without building a graph;
///  - signal measurements (peak, RMS, frequency, largest sample-to-sample step);
///  - two test-only node types: `test.dc*` (constant sources, parameters applied unsmoothed so
///    a test sees exactly which block a change lands in) and `test.probe*` (records its input).
///
/// Misuse (unknown node, port or parameter) throws, which GoogleTest reports as a failure.
/// Everything runs on the test's thread: control and realtime sides simply alternate.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nodes/core/render_plan.hpp"

namespace sg::test {

/// Planar audio: [channel][frame].
using channels = std::vector<std::vector<float>>;
/// Parameter overrides by name; everything else keeps its default.
using params = std::vector<std::pair<std::string, double>>;
/// Text parameter overrides by name (a channel list, a file path).
using texts = std::vector<std::pair<std::string, std::string>>;

/// A built-in node type, or throws.
const node_info& builtin(std::string_view type);
/// Default values of `info` with `overrides` applied; throws on an unknown name.
param_values values_for(const node_info& info, const params& overrides);
/// Index of parameter `name` of `info`, or throws.
uint32_t param_slot(const node_info& info, std::string_view name);

/// One clock domain, compiled and rendered through a render_engine.
class graph_harness {
public:
  /// `input_channels`: the device's captured channels, fed from `capture` when set.
  explicit graph_harness(uint32_t device_channels, audio_format format = {},
                         uint32_t input_channels = 0);

  /// Adds a node (built-in type name or any node_info that outlives the harness); returns its
  /// slot.
  uint32_t add(std::string id, std::string_view type, const params& p = {});
  uint32_t add(std::string id, const node_info& info, const params& p = {});
  /// The same with text parameters set too.
  uint32_t add(std::string id, std::string_view type, const params& p, const texts& t);
  /// What the device captures: input `channel` at absolute frame `frame` (silence without).
  void capture(std::function<float(uint32_t channel, uint64_t frame)> f) {
    capture_ = std::move(f);
  }
  /// Adds an edge, `"node.port"` to `"node.port"`. Unknown ports are left for compile to reject.
  void connect(std::string_view from, std::string_view to);
  /// Uses kernel `k` (e.g. `plan.kernel_at(slot)` of an earlier plan) for node `id` in the next
  /// compile instead of making a new one, so its state survives the swap.
  void keep_kernel(std::string_view id, std::shared_ptr<kernel> k);

  /// Compiles the nodes and edges added so far; the compiler's error on failure.
  expected<std::unique_ptr<render_plan>> compile() const;
  /// Compiles and submits to the engine; throws with the compiler's error on failure. The plan
  /// stays readable through the returned reference until a later plan replaces it and the
  /// engine's garbage is collected.
  const render_plan& start();
  /// Submits an already compiled plan.
  const render_plan& submit(std::unique_ptr<render_plan> plan);

  /// Queues a live parameter change for the next rendered block.
  void set(std::string_view id, std::string_view param, double value);
  /// Renders `frames` frames in `render` calls of `block` frames (0: the plan's max block),
  /// appending the device output and draining telemetry after every call.
  void render(uint64_t frames, uint32_t block = 0);

  uint32_t slot(std::string_view id) const;
  const channels& output() const { return output_; }
  const std::vector<telemetry_record>& telemetry() const { return telemetry_; }
  /// Telemetry records published by node `id`.
  std::vector<telemetry_record> telemetry_of(std::string_view id) const;
  render_engine& engine() { return engine_; }
  const audio_format& format() const { return format_; }

private:
  struct node {
    std::string id;
    const node_info* info;
    param_values values;
    std::shared_ptr<kernel> existing;
  };

  audio_format format_;
  render_engine engine_;
  std::vector<node> nodes_;
  std::vector<plan_edge_spec> edges_;
  channels output_;
  std::vector<telemetry_record> telemetry_;
  std::function<float(uint32_t, uint64_t)> capture_;
  uint64_t rendered_ = 0;
};

/// One kernel, configured and prepared like render_plan does, fed blocks directly. A kernel
/// that cannot prepare throws with prepare's error; `prepare_only` tests those failures.
class kernel_harness {
public:
  /// Value of input `port`, `channel` at absolute frame `frame`.
  using source = std::function<float(uint32_t port, uint32_t channel, uint64_t frame)>;

  /// `in_channels`: width of each resolved input port (missing entries: 1). Outputs get their
  /// declared width, or the widest input as the plan compiler gives "follow" ports.
  kernel_harness(std::string_view type, const params& p = {},
                 std::vector<uint32_t> in_channels = {}, uint32_t device_channels = 0,
                 audio_format format = {});
  /// Any node type with full parameter values (strings included, e.g. a file path).
  kernel_harness(const node_info& info, const param_values& values,
                 std::vector<uint32_t> in_channels = {}, uint32_t device_channels = 0,
                 audio_format format = {});

  /// Makes, configures and prepares a kernel of `info` with the layout the constructor would
  /// give it, and returns what prepare said.
  static expected<void> prepare_only(const node_info& info, const param_values& values,
                                     std::vector<uint32_t> in_channels = {},
                                     uint32_t device_channels = 0, audio_format format = {});

  void input(source s) { source_ = std::move(s); }
  /// A live change, applied before the next block.
  void set(std::string_view param, double value);
  /// A note or trigger at absolute frame `frame` (>= frames_done()): delivered with the block
  /// that holds it, at its offset in that block.
  void event(uint64_t frame, kernel_event e);
  /// Processes `frames` frames in blocks of `block` (0: max_block). Device channels are cleared
  /// before each block, as the engine does.
  void run(uint64_t frames, uint32_t block = 0);

  /// Everything output port `port` produced so far.
  const channels& out(uint32_t port = 0) const { return out_log_.at(port); }
  /// Everything the kernel wrote to the device channels so far.
  const channels& device() const { return device_log_; }
  const std::vector<telemetry_record>& telemetry() const { return telemetry_; }
  process_status last_status() const { return status_; }
  uint64_t frames_done() const { return done_; }
  double sample_rate() const { return format_.sample_rate; }

private:
  struct bus_storage {
    std::vector<std::vector<float>> data;
    std::vector<float*> ptrs;
    audio_bus bus() { return {ptrs.data(), static_cast<uint32_t>(ptrs.size())}; }
  };
  static bus_storage make_bus(uint32_t channels, uint32_t frames);
  /// Widths of the resolved input and output ports: inputs as given (missing: 1), outputs
  /// declared or following the widest input.
  static std::pair<std::vector<uint32_t>, std::vector<uint32_t>>
  layout_of(const node_info& info, const param_values& values,
            const std::vector<uint32_t>& in_channels);

  const node_info& info_;
  audio_format format_;
  std::unique_ptr<kernel> kernel_;
  std::vector<uint32_t> in_ch_, out_ch_;
  std::vector<bus_storage> ins_, outs_;
  bus_storage device_;
  std::vector<std::pair<uint32_t, double>> pending_;
  std::vector<std::pair<uint64_t, kernel_event>> events_;  // by frame
  source source_;
  uint64_t done_ = 0;
  process_status status_ = process_status::ok;
  std::vector<channels> out_log_;
  channels device_log_;
  telemetry_queue queue_;
  std::vector<telemetry_record> telemetry_;
};

// Signal measurements. Ranges are [begin, end) in frames; end 0 means "to the end".

double peak(std::span<const float> x);
double rms(std::span<const float> x);
/// Amplitude ratio in dB; -inf for 0.
double db(double amplitude);
/// Frequency from rising zero crossings, interpolated between samples.
double frequency(std::span<const float> x, double sample_rate);
/// The largest |x[i] - x[i-1]|.
double max_step(std::span<const float> x);
/// Frames [begin, end) of `x`.
std::span<const float> range(const std::vector<float>& x, size_t begin, size_t end = 0);

/// An input source: a sine of `amplitude` at `hz` on every port and channel.
kernel_harness::source sine_source(double hz, double amplitude, double sample_rate = 48000);
/// An input source: `value` on every port and channel.
kernel_harness::source dc_source(float value);

// Test-only node types (not in the built-in registry).

/// `test.dc` (mono out) and `test.dc2` (stereo out): constant `value` on channel 0 and
/// `value2` on channel 1; live changes land unsmoothed at the next block. Counts live kernels.
const node_info& dc_info();
const node_info& dc2_info();
/// Kernels of the test.dc types currently alive (to observe when a retired plan is freed).
int live_dc_kernels();

/// `test.probe` (follows its input), `test.probe1` (mono in) and `test.probe2` (stereo in):
/// record every input sample, and the input channel pointers of the last block.
const node_info& probe_info();
const node_info& probe1_info();
const node_info& probe2_info();

/// What a probe has seen; get it with `probe_of(plan, slot)` before submitting the plan.
struct probe_record {
  channels samples;
  std::vector<const float*> last_channels;
};
/// The record of the probe kernel in `slot` of `plan` (shared, so it outlives the plan).
std::shared_ptr<probe_record> probe_of(const render_plan& plan, uint32_t slot);
/// The output channel pointers a test.dc kernel wrote last.
std::vector<const float*> dc_out_channels(const render_plan& plan, uint32_t slot);

} // namespace sg::test
