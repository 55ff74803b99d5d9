#include "tests/nodes/harness.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <tuple>

#include "nodes/core/describe.hpp"

namespace sg::test {

const node_info& builtin(std::string_view type) {
  const node_info* info = node_registry::builtin().find(type);
  if (!info)
    throw std::invalid_argument("no built-in node type " + std::string(type));
  return *info;
}

uint32_t param_slot(const node_info& info, std::string_view name) {
  const int i = info.param_index(name);
  if (i < 0)
    throw std::invalid_argument(info.type + " has no parameter " + std::string(name));
  return static_cast<uint32_t>(i);
}

param_values values_for(const node_info& info, const params& overrides) {
  param_values v = info.defaults();
  for (const auto& [name, value] : overrides)
    v.numbers[param_slot(info, name)] = value;
  return v;
}

// ---------------------------------------------------------------------------------------------
// graph_harness

graph_harness::graph_harness(uint32_t device_channels, audio_format format,
                             uint32_t input_channels)
  : format_(format), engine_(device_channels, format.sample_rate, input_channels),
    output_(device_channels) {
}

uint32_t graph_harness::add(std::string id, std::string_view type, const params& p,
                            const texts& t) {
  const node_info& info = builtin(type);
  param_values values = values_for(info, p);
  for (const auto& [name, text] : t)
    values.strings[param_slot(info, name)] = text;
  nodes_.push_back({std::move(id), &info, std::move(values), nullptr});
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t graph_harness::add(std::string id, std::string_view type, const params& p) {
  return add(std::move(id), builtin(type), p);
}

uint32_t graph_harness::add(std::string id, const node_info& info, const params& p) {
  nodes_.push_back({std::move(id), &info, values_for(info, p), nullptr});
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t graph_harness::slot(std::string_view id) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].id == id)
      return static_cast<uint32_t>(i);
  throw std::invalid_argument("no node " + std::string(id));
}

void graph_harness::connect(std::string_view from, std::string_view to) {
  auto split = [this](std::string_view endpoint) {
    const auto dot = endpoint.rfind('.');
    if (dot == std::string_view::npos)
      throw std::invalid_argument("endpoint without a port: " + std::string(endpoint));
    return std::pair{slot(endpoint.substr(0, dot)), std::string(endpoint.substr(dot + 1))};
  };
  auto [src, src_port] = split(from);
  auto [dst, dst_port] = split(to);
  edges_.push_back({src, std::move(src_port), dst, std::move(dst_port)});
}

void graph_harness::keep_kernel(std::string_view id, std::shared_ptr<kernel> k) {
  nodes_[slot(id)].existing = std::move(k);
}

expected<std::unique_ptr<render_plan>> graph_harness::compile() const {
  std::vector<plan_node_spec> specs;
  for (const auto& n : nodes_)
    specs.push_back({n.id, n.info, n.values, n.existing});
  return render_plan::compile(std::move(specs), edges_, format_, engine_.device_channels());
}

const render_plan& graph_harness::start() {
  auto plan = compile();
  if (!plan)
    throw std::runtime_error("plan does not compile: " + plan.error());
  return submit(std::move(*plan));
}

const render_plan& graph_harness::submit(std::unique_ptr<render_plan> plan) {
  const render_plan& ref = *plan;
  if (!engine_.submit_plan(std::move(plan)))
    throw std::runtime_error("plan queue full");
  return ref;
}

void graph_harness::set(std::string_view id, std::string_view param, double value) {
  const uint32_t s = slot(id);
  if (!engine_.push_param({s, param_slot(*nodes_[s].info, param), value}))
    throw std::runtime_error("parameter queue full");
}

void graph_harness::render(uint64_t frames, uint32_t block) {
  if (block == 0)
    block = format_.max_block;
  const uint32_t nch = engine_.device_channels();
  const uint32_t nin = engine_.input_channels();
  channels buffer(nch, std::vector<float>(block));
  channels captured(nin, std::vector<float>(block));
  std::vector<float*> ptrs;
  std::vector<const float*> in_ptrs;
  for (auto& ch : buffer)
    ptrs.push_back(ch.data());
  for (auto& ch : captured)
    in_ptrs.push_back(ch.data());
  telemetry_record r;
  for (uint64_t done = 0; done < frames;) {
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(block, frames - done));
    for (uint32_t c = 0; c < nin; ++c)
      for (uint32_t f = 0; f < n; ++f)
        captured[c][f] = capture_ ? capture_(c, rendered_ + f) : 0.0f;
    engine_.render(nin > 0 ? in_ptrs.data() : nullptr, ptrs.data(), n);
    rendered_ += n;
    for (uint32_t c = 0; c < nch; ++c)
      output_[c].insert(output_[c].end(), buffer[c].begin(), buffer[c].begin() + n);
    while (engine_.pop_telemetry(r))
      telemetry_.push_back(r);
    done += n;
  }
}

std::vector<telemetry_record> graph_harness::telemetry_of(std::string_view id) const {
  const uint32_t s = slot(id);
  std::vector<telemetry_record> out;
  for (const auto& r : telemetry_)
    if (r.slot == s)
      out.push_back(r);
  return out;
}

// ---------------------------------------------------------------------------------------------
// kernel_harness

kernel_harness::bus_storage kernel_harness::make_bus(uint32_t channels, uint32_t frames) {
  bus_storage b;
  b.data.assign(channels, std::vector<float>(frames));
  for (auto& ch : b.data)
    b.ptrs.push_back(ch.data());
  return b;
}

kernel_harness::kernel_harness(std::string_view type, const params& p,
                               std::vector<uint32_t> in_channels, uint32_t device_channels,
                               audio_format format)
  : kernel_harness(builtin(type), values_for(builtin(type), p), std::move(in_channels),
                   device_channels, format) {
}

std::pair<std::vector<uint32_t>, std::vector<uint32_t>>
kernel_harness::layout_of(const node_info& info, const param_values& values,
                          const std::vector<uint32_t>& in_channels) {
  std::vector<uint32_t> in_ch, out_ch;
  uint32_t widest = 0;
  std::vector<resolved_port> outs;
  for (const auto& port : resolve_ports(info, values)) {
    if (port.dir == port_dir::out) {
      outs.push_back(port);
      continue;
    }
    const size_t i = in_ch.size();
    uint32_t ch = port.channels;
    if (ch == 0)
      ch = i < in_channels.size() ? in_channels[i] : 1;
    in_ch.push_back(ch);
    widest = std::max(widest, ch);
  }
  for (const auto& port : outs)
    out_ch.push_back(port.channels != 0 ? port.channels : std::max<uint32_t>(widest, 1));
  return {in_ch, out_ch};
}

expected<void> kernel_harness::prepare_only(const node_info& info, const param_values& values,
                                            std::vector<uint32_t> in_channels,
                                            uint32_t device_channels, audio_format format) {
  const auto [in_ch, out_ch] = layout_of(info, values, in_channels);
  auto k = info.make();
  k->configure(values);
  return k->prepare(format, port_layout{in_ch, out_ch, device_channels});
}

kernel_harness::kernel_harness(const node_info& info, const param_values& values,
                               std::vector<uint32_t> in_channels, uint32_t device_channels,
                               audio_format format)
  : info_(info), format_(format) {
  std::tie(in_ch_, out_ch_) = layout_of(info_, values, in_channels);
  for (auto ch : in_ch_)
    ins_.push_back(make_bus(ch, format_.max_block));
  for (auto ch : out_ch_) {
    outs_.push_back(make_bus(ch, format_.max_block));
    out_log_.emplace_back(ch);
  }
  device_ = make_bus(device_channels, format_.max_block);
  device_log_.resize(device_channels);
  kernel_ = info_.make();
  kernel_->configure(values);
  if (auto prepared = kernel_->prepare(format_, port_layout{in_ch_, out_ch_, device_channels});
      !prepared)
    throw std::runtime_error(prepared.error());
}

void kernel_harness::set(std::string_view param, double value) {
  pending_.emplace_back(param_slot(info_, param), value);
}

void kernel_harness::event(uint64_t frame, kernel_event e) {
  if (frame < done_)
    throw std::invalid_argument("event in a block already processed");
  auto it = events_.end();
  while (it != events_.begin() && std::prev(it)->first > frame)
    --it;
  events_.insert(it, {frame, e});
}

void kernel_harness::run(uint64_t frames, uint32_t block) {
  if (block == 0)
    block = format_.max_block;
  if (block > format_.max_block)
    throw std::invalid_argument("block larger than max_block");
  std::vector<audio_bus> in_buses, out_buses;
  for (auto& b : ins_)
    in_buses.push_back(b.bus());
  for (auto& b : outs_)
    out_buses.push_back(b.bus());
  telemetry_record r;
  for (uint64_t end = done_ + frames; done_ < end;) {
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(block, end - done_));
    for (auto& [index, value] : pending_)
      kernel_->set_param(index, value);
    pending_.clear();
    for (uint32_t p = 0; p < ins_.size(); ++p)
      for (uint32_t c = 0; c < ins_[p].data.size(); ++c)
        for (uint32_t f = 0; f < n; ++f)
          ins_[p].data[c][f] = source_ ? source_(p, c, done_ + f) : 0.0f;
    for (auto& ch : device_.data)
      std::fill(ch.begin(), ch.end(), 0.0f);
    process_context ctx;
    ctx.frames = n;
    ctx.in = in_buses.data();
    ctx.n_in = static_cast<uint32_t>(in_buses.size());
    ctx.out = out_buses.data();
    ctx.n_out = static_cast<uint32_t>(out_buses.size());
    ctx.device_out = device_.bus();
    ctx.telemetry = &queue_;
    std::vector<kernel_event> block_events;
    while (!events_.empty() && events_.front().first < done_ + n) {
      block_events.push_back(events_.front().second);
      block_events.back().offset = static_cast<uint32_t>(events_.front().first - done_);
      events_.erase(events_.begin());
    }
    ctx.events = block_events.data();
    ctx.n_events = static_cast<uint32_t>(block_events.size());
    status_ = kernel_->process(ctx);
    for (size_t p = 0; p < outs_.size(); ++p)
      for (size_t c = 0; c < outs_[p].data.size(); ++c)
        out_log_[p][c].insert(out_log_[p][c].end(), outs_[p].data[c].begin(),
                              outs_[p].data[c].begin() + n);
    for (size_t c = 0; c < device_.data.size(); ++c)
      device_log_[c].insert(device_log_[c].end(), device_.data[c].begin(),
                            device_.data[c].begin() + n);
    while (queue_.pop(r))
      telemetry_.push_back(r);
    done_ += n;
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements

double peak(std::span<const float> x) {
  double p = 0;
  for (float v : x)
    p = std::max(p, static_cast<double>(std::fabs(v)));
  return p;
}

double rms(std::span<const float> x) {
  if (x.empty())
    return 0;
  double sum = 0;
  for (float v : x)
    sum += static_cast<double>(v) * v;
  return std::sqrt(sum / static_cast<double>(x.size()));
}

double db(double amplitude) {
  return amplitude > 0 ? 20.0 * std::log10(amplitude) : -std::numeric_limits<double>::infinity();
}

double frequency(std::span<const float> x, double sample_rate) {
  double first = -1, last = -1;
  size_t crossings = 0;
  for (size_t i = 1; i < x.size(); ++i) {
    if (!(x[i - 1] < 0.0f && x[i] >= 0.0f))
      continue;
    const double t = static_cast<double>(i - 1) + x[i - 1] / (x[i - 1] - x[i]);
    if (crossings == 0)
      first = t;
    last = t;
    ++crossings;
  }
  if (crossings < 2)
    return 0;
  return static_cast<double>(crossings - 1) * sample_rate / (last - first);
}

double max_step(std::span<const float> x) {
  double m = 0;
  for (size_t i = 1; i < x.size(); ++i)
    m = std::max(m, static_cast<double>(std::fabs(x[i] - x[i - 1])));
  return m;
}

std::span<const float> range(const std::vector<float>& x, size_t begin, size_t end) {
  if (end == 0)
    end = x.size();
  if (begin > end || end > x.size())
    throw std::out_of_range("range outside the signal");
  return std::span<const float>(x).subspan(begin, end - begin);
}

kernel_harness::source sine_source(double hz, double amplitude, double sample_rate) {
  return [=](uint32_t, uint32_t, uint64_t frame) {
    return static_cast<float>(amplitude *
                              std::sin(2.0 * M_PI * hz * static_cast<double>(frame) / sample_rate));
  };
}

kernel_harness::source dc_source(float value) {
  return [=](uint32_t, uint32_t, uint64_t) { return value; };
}

// ---------------------------------------------------------------------------------------------
// Test-only node types

namespace {

int live_dc = 0;

class dc_kernel final : public kernel {
public:
  dc_kernel() { ++live_dc; }
  ~dc_kernel() override { --live_dc; }
  void configure(const param_values& values) override {
    value_[0] = values.numbers[0];
    value_[1] = values.numbers[1];
  }
  expected<void> prepare(const audio_format&, const port_layout&) override { return {}; }
  void set_param(uint32_t index, double value) noexcept override {
    if (index < 2)
      value_[index] = value;
  }
  process_status process(process_context& ctx) noexcept override {
    const audio_bus& out = ctx.out[0];
    for (uint32_t c = 0; c < out.count; ++c) {
      std::fill(out.channels[c], out.channels[c] + ctx.frames,
                static_cast<float>(value_[c < 2 ? c : 1]));
      last_[c < 2 ? c : 1] = out.channels[c];
    }
    return process_status::ok;
  }
  std::vector<const float*> last(uint32_t count) const {
    return std::vector<const float*>(last_, last_ + std::min<uint32_t>(count, 2));
  }

private:
  double value_[2] = {};
  const float* last_[2] = {};
};

// Test-only: appends to vectors on the "realtime" side, which is fine single-threaded and
// outside RTSan; real kernels never allocate in process.
class probe_kernel final : public kernel {
public:
  void configure(const param_values&) override {}
  expected<void> prepare(const audio_format&, const port_layout& layout) override {
    record_->samples.resize(layout.in_channels.empty() ? 0 : layout.in_channels[0]);
    return {};
  }
  void set_param(uint32_t, double) noexcept override {}
  process_status process(process_context& ctx) noexcept override {
    const audio_bus& in = ctx.in[0];
    record_->last_channels.assign(in.channels, in.channels + in.count);
    for (uint32_t c = 0; c < in.count && c < record_->samples.size(); ++c)
      record_->samples[c].insert(record_->samples[c].end(), in.channels[c],
                                 in.channels[c] + ctx.frames);
    return process_status::ok;
  }
  const std::shared_ptr<probe_record>& record() const { return record_; }

private:
  std::shared_ptr<probe_record> record_ = std::make_shared<probe_record>();
};

node_info make_dc_info(const char* type, uint32_t channels) {
  node_info info;
  info.type = type;
  info.summary = "Test: constant source";
  info.ports = {describe::output("out", media_kind::audio, channels)};
  for (const char* name : {"value", "value2"})
    info.params.push_back(describe::real(name, -10, 10, 0, "", ""));
  info.make = [] { return std::make_unique<dc_kernel>(); };
  return info;
}

node_info make_probe_info(const char* type, uint32_t channels) {
  node_info info;
  info.type = type;
  info.summary = "Test: records its input";
  info.ports = {describe::input("in", media_kind::audio, channels)};
  info.make = [] { return std::make_unique<probe_kernel>(); };
  return info;
}

template <class K>
const K& kernel_as(const render_plan& plan, uint32_t slot) {
  const auto* k = dynamic_cast<const K*>(plan.kernel_at(slot).get());
  if (!k)
    throw std::invalid_argument("slot " + std::to_string(slot) + " has another kernel type");
  return *k;
}

} // namespace

const node_info& dc_info() {
  static const node_info info = make_dc_info("test.dc", 1);
  return info;
}

const node_info& dc2_info() {
  static const node_info info = make_dc_info("test.dc2", 2);
  return info;
}

int live_dc_kernels() {
  return live_dc;
}

const node_info& probe_info() {
  static const node_info info = make_probe_info("test.probe", 0);
  return info;
}

const node_info& probe1_info() {
  static const node_info info = make_probe_info("test.probe1", 1);
  return info;
}

const node_info& probe2_info() {
  static const node_info info = make_probe_info("test.probe2", 2);
  return info;
}

std::shared_ptr<probe_record> probe_of(const render_plan& plan, uint32_t slot) {
  return kernel_as<probe_kernel>(plan, slot).record();
}

std::vector<const float*> dc_out_channels(const render_plan& plan, uint32_t slot) {
  const auto channels = plan.out_channels(slot);
  return kernel_as<dc_kernel>(plan, slot).last(channels.empty() ? 0 : channels[0]);
}

} // namespace sg::test
