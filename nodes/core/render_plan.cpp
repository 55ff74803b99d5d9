#include "nodes/core/render_plan.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace sg {

namespace {

int find_port(const std::vector<resolved_port>& ports, const std::string& name) {
  for (size_t i = 0; i < ports.size(); ++i)
    if (ports[i].name == name)
      return static_cast<int>(i);
  return -1;
}

// Kahn's algorithm, stable in declaration order; empty when there is a cycle.
std::vector<uint32_t> topo_sort(size_t n, const std::vector<plan_edge_spec>& edges) {
  std::vector<uint32_t> indegree(n, 0), order;
  std::vector<std::vector<uint32_t>> succ(n);
  for (const auto& e : edges) {
    succ[e.from_node].push_back(e.to_node);
    ++indegree[e.to_node];
  }
  std::vector<bool> done(n, false);
  while (order.size() < n) {
    bool progressed = false;
    for (uint32_t i = 0; i < n; ++i) {
      if (done[i] || indegree[i] != 0)
        continue;
      done[i] = true;
      order.push_back(i);
      for (auto s : succ[i])
        --indegree[s];
      progressed = true;
      break;
    }
    if (!progressed)
      return {};
  }
  return order;
}

} // namespace

/// What the compile works out before the plan's memory exists: every node's audio ports and
/// the edges into them, then channel counts and which bus each port reads or writes.
struct render_plan::wiring {
  struct node_ports {
    std::vector<resolved_port> ins, outs;
    std::vector<uint32_t> in_ch, out_ch;
    std::vector<std::vector<uint32_t>> in_edges;  // per input port: edge indices
  };
  std::vector<node_ports> ports;                        // per node
  std::vector<std::pair<uint32_t, uint32_t>> edge_src;  // per edge: (node, out port)
  std::vector<uint32_t> order;                          // topological
  std::vector<uint32_t> first_out_bus;                  // per node
  std::vector<uint32_t> input_bus;                      // per step input, in step order
};

uint32_t render_plan::add_bus(uint32_t channels) {
  uint32_t first = 0;
  if (!bus_ranges_.empty())
    first = bus_ranges_.back().first + bus_ranges_.back().second;
  bus_ranges_.emplace_back(first, channels);
  return static_cast<uint32_t>(bus_ranges_.size() - 1);
}

expected<void> render_plan::wire(const std::vector<plan_node_spec>& nodes,
                                 const std::vector<plan_edge_spec>& edges, wiring& w) {
  const auto n = nodes.size();
  w.ports.resize(n);
  for (size_t i = 0; i < n; ++i) {
    for (auto& p : resolve_ports(*nodes[i].info, nodes[i].values)) {
      if (p.kind != media_kind::audio)
        continue;
      (p.dir == port_dir::in ? w.ports[i].ins : w.ports[i].outs).push_back(p);
    }
    w.ports[i].in_edges.resize(w.ports[i].ins.size());
  }
  w.edge_src.resize(edges.size());
  for (size_t e = 0; e < edges.size(); ++e) {
    const auto& ed = edges[e];
    if (ed.from_node >= n || ed.to_node >= n)
      return unexpected("edge refers to a node outside the domain");
    int op = find_port(w.ports[ed.from_node].outs, ed.from_port);
    int ip = find_port(w.ports[ed.to_node].ins, ed.to_port);
    if (op < 0 || ip < 0)
      return unexpected("edge " + nodes[ed.from_node].id + "." + ed.from_port + " -> " +
                        nodes[ed.to_node].id + "." + ed.to_port +
                        " names a port that does not exist");
    w.edge_src[e] = {ed.from_node, static_cast<uint32_t>(op)};
    w.ports[ed.to_node].in_edges[ip].push_back(static_cast<uint32_t>(e));
  }
  w.order = topo_sort(n, edges);
  if (w.order.size() != n)
    return unexpected("the audio graph has a cycle");
  return {};
}

void render_plan::add_output_buses(wiring& w) {
  // Channel counts in topological order: "follow" ports take the widest connected source.
  w.first_out_bus.assign(w.ports.size(), 0);
  for (auto i : w.order) {
    auto& np = w.ports[i];
    uint32_t widest = 0;
    for (size_t p = 0; p < np.ins.size(); ++p) {
      uint32_t ch = np.ins[p].channels;
      if (ch == 0) {
        for (auto e : np.in_edges[p])
          ch = std::max(ch, w.ports[w.edge_src[e].first].out_ch[w.edge_src[e].second]);
        ch = std::max<uint32_t>(ch, 1);
      }
      np.in_ch.push_back(ch);
      widest = std::max(widest, ch);
    }
    w.first_out_bus[i] = static_cast<uint32_t>(bus_ranges_.size());
    for (auto& op : np.outs) {
      uint32_t ch = op.channels != 0 ? op.channels : std::max<uint32_t>(widest, 1);
      np.out_ch.push_back(ch);
      add_bus(ch);
    }
  }
}

void render_plan::add_steps(wiring& w) {
  // Inputs: alias the source bus when one edge matches the width; otherwise own a bus that is
  // cleared and mixed into before the kernel runs.
  for (auto i : w.order) {
    auto& np = w.ports[i];
    step s{};
    s.slot = i;
    s.in_begin = static_cast<uint32_t>(w.input_bus.size());
    s.in_count = static_cast<uint32_t>(np.ins.size());
    s.out_begin = w.first_out_bus[i];
    s.out_count = static_cast<uint32_t>(np.outs.size());
    s.mix_begin = static_cast<uint32_t>(mixes_.size());
    s.clear_begin = static_cast<uint32_t>(clears_.size());
    for (size_t p = 0; p < np.ins.size(); ++p) {
      const auto& in_edges = np.in_edges[p];
      if (in_edges.size() == 1) {
        auto [src, port] = w.edge_src[in_edges[0]];
        if (w.ports[src].out_ch[port] == np.in_ch[p]) {
          w.input_bus.push_back(w.first_out_bus[src] + port);
          continue;
        }
      }
      auto bus = add_bus(np.in_ch[p]);
      w.input_bus.push_back(bus);
      clears_.push_back(bus);
      for (auto e : in_edges)
        mixes_.push_back({w.first_out_bus[w.edge_src[e].first] + w.edge_src[e].second, bus});
    }
    s.mix_count = static_cast<uint32_t>(mixes_.size()) - s.mix_begin;
    s.clear_count = static_cast<uint32_t>(clears_.size()) - s.clear_begin;
    steps_.push_back(s);
  }
}

void render_plan::allocate_buffers(const wiring& w) {
  // Memory: one pool, one channel pointer table, then the bus views into them.
  size_t total_channels = 0;
  for (auto& r : bus_ranges_)
    total_channels += r.second;
  pool_.assign(total_channels * format_.max_block, 0.0f);
  channel_ptrs_.resize(total_channels);
  for (size_t c = 0; c < total_channels; ++c)
    channel_ptrs_[c] = pool_.data() + c * format_.max_block;
  for (auto& r : bus_ranges_)
    buses_.push_back({channel_ptrs_.data() + r.first, r.second});
  for (auto b : w.input_bus)
    inputs_.push_back(buses_[b]);
}

expected<void> render_plan::add_kernels(std::vector<plan_node_spec>& nodes, const wiring& w,
                                        uint32_t device_channels) {
  // Reuse the kernels handed in (state survives) when their layout still fits, make and
  // prepare the rest. A kernel that cannot prepare (a missing file...) fails the compile.
  const auto n = nodes.size();
  kernels_.resize(n);
  reused_.assign(n, false);
  node_ns_ = std::make_unique<std::atomic<uint64_t>[]>(n);
  bypassed_ = std::make_unique<uint8_t[]>(n);
  for (size_t i = 0; i < n; ++i) {
    auto& spec = nodes[i];
    const auto& np = w.ports[i];
    const bool fits =
      !spec.check_layout || (spec.existing_in == np.in_ch && spec.existing_out == np.out_ch);
    if (spec.existing && fits) {
      kernels_[i] = std::move(spec.existing);
      reused_[i] = true;
      continue;
    }
    kernels_[i] = spec.info->make();
    kernels_[i]->configure(spec.values);
    port_layout layout{np.in_ch, np.out_ch, device_channels};
    if (auto prepared = kernels_[i]->prepare(format_, layout); !prepared)
      return unexpected("node '" + spec.id + "' (" + spec.info->type + "): " + prepared.error());
  }
  for (size_t i = 0; i < n; ++i) {
    in_ch_.push_back(w.ports[i].in_ch);
    out_ch_.push_back(w.ports[i].out_ch);
  }
  for (auto& s : steps_)
    s.k = kernels_[s.slot].get();
  return {};
}

expected<std::unique_ptr<render_plan>> render_plan::compile(
  std::vector<plan_node_spec> nodes, const std::vector<plan_edge_spec>& edges,
  const audio_format& format, uint32_t device_channels) {
  std::unique_ptr<render_plan> plan{new render_plan};
  plan->format_ = format;
  wiring w;
  if (auto wired = wire(nodes, edges, w); !wired)
    return unexpected(wired.error());
  plan->add_output_buses(w);
  plan->add_steps(w);
  plan->allocate_buffers(w);
  if (auto added = plan->add_kernels(nodes, w, device_channels); !added)
    return unexpected(added.error());
  return plan;
}

void render_plan::mix(const audio_bus& src, const audio_bus& dst, uint32_t frames) noexcept {
  // Up/down-mix rules: equal widths map 1:1; mono feeds every channel; to mono averages all
  // channels; otherwise source channel c lands on destination channel c % width.
  if (src.count == 1 && dst.count > 1) {
    for (uint32_t c = 0; c < dst.count; ++c)
      for (uint32_t f = 0; f < frames; ++f)
        dst.channels[c][f] += src.channels[0][f];
    return;
  }
  if (dst.count == 1 && src.count > 1) {
    const float scale = 1.0f / static_cast<float>(src.count);
    for (uint32_t c = 0; c < src.count; ++c)
      for (uint32_t f = 0; f < frames; ++f)
        dst.channels[0][f] += src.channels[c][f] * scale;
    return;
  }
  for (uint32_t c = 0; c < src.count; ++c) {
    float* d = dst.channels[c % dst.count];
    const float* s = src.channels[c];
    for (uint32_t f = 0; f < frames; ++f)
      d[f] += s[f];
  }
}

void render_plan::run(uint32_t frames, const audio_bus& device_in, const audio_bus& device_out,
                      telemetry_queue* telemetry, const kernel_event* events,
                      const uint32_t* event_slots, uint32_t n_events) noexcept {
  // Per-node time is sampled on one run in `node_time_stride` (and scaled): two clock reads
  // per node on every block would cost more than the small kernels themselves.
  const bool timed = (runs_++ % node_time_stride) == 0;
  auto before = timed ? realtime_now() : std::chrono::steady_clock::time_point{};
  for (auto& s : steps_) {
    for (uint32_t i = 0; i < s.clear_count; ++i) {
      const auto& b = buses_[clears_[s.clear_begin + i]];
      for (uint32_t c = 0; c < b.count; ++c)
        std::memset(b.channels[c], 0, frames * sizeof(float));
    }
    for (uint32_t i = 0; i < s.mix_count; ++i) {
      const auto& m = mixes_[s.mix_begin + i];
      mix(buses_[m.src_bus], buses_[m.dst_bus], frames);
    }
    process_context ctx;
    ctx.frames = frames;
    ctx.in = inputs_.data() + s.in_begin;
    ctx.n_in = s.in_count;
    ctx.out = buses_.data() + s.out_begin;
    ctx.n_out = s.out_count;
    ctx.device_in = device_in;
    ctx.device_out = device_out;
    ctx.slot = s.slot;
    ctx.telemetry = telemetry;
    // Events are sorted by slot: find this slot's run.
    uint32_t first = 0;
    while (first < n_events && event_slots[first] < s.slot)
      ++first;
    uint32_t last = first;
    while (last < n_events && event_slots[last] == s.slot)
      ++last;
    ctx.events = last > first ? events + first : nullptr;
    ctx.n_events = last - first;
    if (bypassed_[s.slot])
      pass_through(s, frames);
    else
      s.k->process(ctx);
    if (!timed)
      continue;
    const auto after = realtime_now();
    node_ns_[s.slot].fetch_add(
      node_time_stride *
        static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(after - before).count()),
      std::memory_order_relaxed);
    before = after;
  }
}

void render_plan::set_param(uint32_t slot, uint32_t index, double value) noexcept {
  if (slot >= kernels_.size())
    return;
  if (index == bypass_param_index)
    bypassed_[slot] = value != 0;
  else
    kernels_[slot]->set_param(index, value);
}

void render_plan::pass_through(const step& s, uint32_t frames) noexcept {
  for (uint32_t o = 0; o < s.out_count; ++o) {
    const auto& dst = buses_[s.out_begin + o];
    const audio_bus* src = o < s.in_count ? &inputs_[s.in_begin + o] : nullptr;
    for (uint32_t c = 0; c < dst.count; ++c) {
      if (src && src->count > 0)
        std::memmove(dst.channels[c], src->channels[c % src->count], frames * sizeof(float));
      else
        std::memset(dst.channels[c], 0, frames * sizeof(float));
    }
  }
}

std::vector<uint32_t> render_plan::order() const {
  std::vector<uint32_t> out;
  for (auto& s : steps_)
    out.push_back(s.slot);
  return out;
}

std::vector<uint32_t> render_plan::in_channels(uint32_t slot) const {
  return slot < in_ch_.size() ? in_ch_[slot] : std::vector<uint32_t>{};
}

std::vector<uint32_t> render_plan::out_channels(uint32_t slot) const {
  std::vector<uint32_t> out;
  for (auto& s : steps_)
    if (s.slot == slot)
      for (uint32_t i = 0; i < s.out_count; ++i)
        out.push_back(buses_[s.out_begin + i].count);
  return out;
}

render_engine::render_engine(uint32_t device_channels, double sample_rate,
                             uint32_t input_channels)
  : device_channels_(device_channels), input_channels_(input_channels),
    sample_rate_(sample_rate) {
}

render_engine::~render_engine() {
  collect_garbage();
  render_plan* p = nullptr;
  while (pending_.pop(p))
    delete p;
  delete current_.load();
}

bool render_engine::submit_plan(std::unique_ptr<render_plan> plan) {
  collect_garbage();
  if (!pending_.push(plan.get()))
    return false;
  plan.release();
  return true;
}

bool render_engine::push_param(const param_update& u) {
  if (params_.push(u))
    return true;
  stats_.dropped_params.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool render_engine::push_event(const timed_event& e) {
  if (events_.push(e))
    return true;
  stats_.dropped_events.fetch_add(1, std::memory_order_relaxed);
  return false;
}

uint32_t render_engine::gather_events(uint64_t chunk_start, uint32_t frames) noexcept {
  render_plan* plan = current_.load(std::memory_order_relaxed);
  const uint32_t gen = plan ? plan->generation() : 0;
  timed_event e;
  while (events_.pop(e)) {
    if (e.gen != gen)
      continue;  // addressed to a plan that is gone
    if (n_held_ == max_events) {
      stats_.dropped_events.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    held_[n_held_++] = e;
  }
  // Due events leave `held_` (order kept) for the chunk arrays, sorted by (slot, offset) with
  // an insertion sort: a handful per block.
  uint32_t n = 0, kept = 0;
  for (uint32_t i = 0; i < n_held_; ++i) {
    const timed_event& h = held_[i];
    if (h.frame >= chunk_start + frames) {
      held_[kept++] = h;
      continue;
    }
    kernel_event ev = h.ev;
    ev.offset = h.frame > chunk_start ? static_cast<uint32_t>(h.frame - chunk_start) : 0;
    uint32_t j = n;
    while (j > 0 && (chunk_slots_[j - 1] > h.slot ||
                     (chunk_slots_[j - 1] == h.slot && chunk_events_[j - 1].offset > ev.offset))) {
      chunk_slots_[j] = chunk_slots_[j - 1];
      chunk_events_[j] = chunk_events_[j - 1];
      --j;
    }
    chunk_slots_[j] = h.slot;
    chunk_events_[j] = ev;
    ++n;
  }
  n_held_ = kept;
  return n;
}

void render_engine::collect_garbage() {
  render_plan* p = nullptr;
  while (retired_.pop(p))
    delete p;
}

void render_engine::render(float* const* out, uint32_t frames) noexcept {
  render(nullptr, out, frames);
}

void render_engine::render(const float* const* in, float* const* out, uint32_t frames) noexcept {
  if (frames == 0)
    return;
  const auto start = realtime_now();
  render_plan* next = nullptr;
  // Swap at the block boundary; keep the newest plan. A plan that cannot be retired (queue full)
  // is kept current rather than freed here.
  render_plan* plan = current_.load(std::memory_order_relaxed);
  while (pending_.read_available() > 0 && retired_.write_available() > 0) {
    pending_.pop(next);
    if (plan)
      retired_.push(plan);
    plan = next;
  }
  current_.store(plan, std::memory_order_release);
  param_update u;
  while (params_.pop(u)) {
    if (plan && u.gen == plan->generation())
      plan->set_param(u.slot, u.index, u.value);
    else
      stats_.stale_params.fetch_add(1, std::memory_order_relaxed);
  }
  for (uint32_t c = 0; c < device_channels_; ++c)
    std::memset(out[c], 0, frames * sizeof(float));
  const uint64_t block_start = stats_.frames.load(std::memory_order_relaxed);
  if (plan) {
    float* chunk[max_channels];
    float* in_chunk[max_channels];  // read only: kernels never write the device's inputs
    const uint32_t nch = device_channels_ < max_channels ? device_channels_ : max_channels;
    const uint32_t nin = !in ? 0 : input_channels_ < max_channels ? input_channels_ : max_channels;
    const uint32_t max_block = plan->max_block();
    for (uint32_t offset = 0; offset < frames; offset += max_block) {
      const uint32_t n = frames - offset < max_block ? frames - offset : max_block;
      for (uint32_t c = 0; c < nch; ++c)
        chunk[c] = out[c] + offset;
      for (uint32_t c = 0; c < nin; ++c)
        in_chunk[c] = const_cast<float*>(in[c]) + offset;
      const uint32_t n_events = gather_events(block_start + offset, n);
      plan->run(n, audio_bus{in_chunk, nin}, audio_bus{chunk, nch}, &telemetry_, chunk_events_,
                chunk_slots_, n_events);
    }
  }
  const double elapsed =
    std::chrono::duration<double>(realtime_now() - start).count();
  const float load = static_cast<float>(elapsed * sample_rate_ / frames);
  const float smoothed = stats_.load.load(std::memory_order_relaxed);
  stats_.load.store(smoothed + 0.05f * (load - smoothed), std::memory_order_relaxed);
  if (load > stats_.peak_load.load(std::memory_order_relaxed))
    stats_.peak_load.store(load, std::memory_order_relaxed);
  stats_.frames.fetch_add(frames, std::memory_order_relaxed);
  stats_.blocks.fetch_add(1, std::memory_order_release);
}

} // namespace sg
