// The loader's hosts and devices: reading `hosts` and `devices` (pass 1), and judging the
// device and host each node names (pass 2).

#include <algorithm>

#include "graph/load_context.hpp"
#include "nodes/core/channel_list.hpp"

namespace sg::graph_load {

namespace {

// Vocabulary of the format (docs/GRAPH_FORMAT.md)

const names device_keys = {"kind",   "backend", "sample_rate", "block",       "channels",
                           "inputs", "outputs", "device",      "path",        "input",
                           "client_name", "priority"};
const names device_option_keys = {"device", "path", "input", "client_name"};
const names midi_device_keys = {"kind", "backend", "port"};
// Video devices (actors/devices/video_device.hpp): one GStreamer pipeline and its sink.
const names video_device_keys = {"kind", "sink", "width", "height", "fps",
                                 "path", "host", "port", "codec", "bitrate"};
const names video_sinks = {"window", "file", "rtp", "null", "app"};
const names video_codecs = {"vp8", "mjpeg"};
const names backends = {"auto", "jack", "alsa", "pulse", "null"};

constexpr uint32_t default_sample_rate = 48000;
constexpr uint32_t default_block = 128;
constexpr uint32_t default_channels = 2;

// ---------------------------------------------------------------------------------------------
// Pass 1

/// `NAME: { kind: midi, backend: auto|jack|alsa, port: SOURCE }`: a MIDI input; `port`, when
/// given, is the source port connected to it (a JACK or ALSA port name, or part of one).
void midi_device(context& c, v1::DeviceSpec& d, const entry& e) {
  d.set_kind("midi");
  d.set_backend("auto");
  d.set_sample_rate(0);
  d.set_block(0);
  d.set_channels(0);
  for (const auto& f : entries(c, e.value, "in MIDI device " + q(e.key), &midi_device_keys)) {
    const std::string what = q(f.key) + " of MIDI device " + q(d.name());
    if (f.key == "backend") {
      auto s = string_field(c, f, what);
      if (s && *s != "auto" && *s != "jack" && *s != "alsa")
        c.report.error(at(f.value), "unknown MIDI backend " + q(*s) + " of device " + q(d.name()) +
                                      ": expected auto, jack or alsa");
      else if (s)
        d.set_backend(*s);
    } else if (f.key == "port") {
      if (auto s = string_field(c, f, what))
        (*d.mutable_options())["port"] = *s;
    }
  }
}

void backend(context& c, v1::DeviceSpec& d, const entry& f) {
  std::optional<std::string> b;
  if (f.value.IsNull() && is_null_literal(c, f.value))
    b = "null";
  else
    b = string_field(c, f, "'backend' of device " + q(d.name()));
  if (!b)
    return;
  if (!contains(backends, *b)) {
    c.report.error(at(f.value), "unknown backend " + q(*b) + ": expected one of " + join(backends));
    return;
  }
  d.set_backend(*b);
}

void device_field(context& c, v1::DeviceSpec& d, const entry& f) {
  const std::string what = q(f.key) + " of device " + q(d.name());
  if (f.key == "kind") {
    auto k = string_field(c, f, what);
    if (!k)
      return;
    d.set_kind(*k);
    if (*k != "audio")
      c.report.error(at(f.value),
                     "unknown device kind " + q(*k) + ": expected audio, video or midi");
  } else if (f.key == "backend") {
    backend(c, d, f);
  } else if (f.key == "sample_rate") {
    if (auto x = int_field(c, f, what, 8000, 384000))
      d.set_sample_rate(static_cast<uint32_t>(*x));
  } else if (f.key == "block") {
    auto x = int_field(c, f, what, 16, 4096);
    if (x && (*x & (*x - 1)) != 0)
      c.report.error(at(f.value), "block " + std::to_string(*x) +
                                    " is not a power of two: "
                                    "expected 16, 32, 64, 128, 256, 512, 1024, 2048 or 4096");
    else if (x)
      d.set_block(static_cast<uint32_t>(*x));
  } else if (f.key == "channels" || f.key == "outputs") {
    if (c.declared_outputs.count(d.name()))
      c.report.error(at(f.key_node), "device " + q(d.name()) + " sets its outputs twice: "
                                       "expected one of 'channels' and 'outputs'");
    else if (auto x = int_field(c, f, what, 0, 64)) {
      d.set_channels(static_cast<uint32_t>(*x));
      c.declared_outputs[d.name()] = at(f.value);
    }
  } else if (f.key == "inputs") {
    if (auto x = int_field(c, f, what, 0, 64)) {
      d.set_inputs(static_cast<uint32_t>(*x));
      c.declared_inputs[d.name()] = at(f.value);
    }
  } else if (f.key == "priority") {
    if (auto x = int_field(c, f, what, 1, 95))
      (*d.mutable_options())["priority"] = std::to_string(*x);
  } else if (contains(device_option_keys, f.key)) {
    if (auto s = string_field(c, f, what))
      (*d.mutable_options())[f.key] = *s;
  }
}

void video_device_field(context& c, v1::DeviceSpec& d, const entry& f) {
  const std::string what = q(f.key) + " of video device " + q(d.name());
  auto& o = *d.mutable_options();
  auto choice = [&](const names& allowed) {
    auto s = string_field(c, f, what);
    if (s && !contains(allowed, *s))
      c.report.error(at(f.value), "unknown " + f.key + " " + q(*s) + " of video device " +
                                    q(d.name()) + ": expected one of " + join(allowed));
    else if (s)
      o[f.key] = *s;
  };
  if (f.key == "sink" && f.value.IsNull() && is_null_literal(c, f.value)) {
    o["sink"] = "null";  // `sink: null` is YAML's null literal; it names the null sink here
  } else if (f.key == "sink") {
    choice(video_sinks);
  } else if (f.key == "codec") {
    choice(video_codecs);
  } else if (f.key == "width" || f.key == "height") {
    if (auto x = int_field(c, f, what, 16, 7680))
      o[f.key] = std::to_string(*x);
  } else if (f.key == "fps") {
    if (auto x = int_field(c, f, what, 1, 240))
      o[f.key] = std::to_string(*x);
  } else if (f.key == "port") {
    if (auto x = int_field(c, f, what, 1, 65535))
      o[f.key] = std::to_string(*x);
  } else if (f.key == "bitrate") {
    if (auto x = int_field(c, f, what, 16, 100000))
      o[f.key] = std::to_string(*x);
  } else if (f.key == "path" || f.key == "host") {
    if (auto s = string_field(c, f, what))
      o[f.key] = *s;
  }
}

/// What each sink needs: a file path, an RTP destination.
void video_device_check(context& c, const v1::DeviceSpec& d, const entry& e) {
  const auto& o = d.options();
  const std::string& sink = o.at("sink");
  if (sink == "file" && !o.count("path"))
    c.report.error(at(e.value), "video device " + q(d.name()) +
                                  " has sink 'file' but no 'path': expected path: out.mkv");
  if (sink == "rtp" && !o.count("port"))
    c.report.error(at(e.value), "video device " + q(d.name()) +
                                  " has sink 'rtp' but no 'port': expected port: 5000 "
                                  "(and host, default 127.0.0.1)");
}

void video_device(context& c, v1::DeviceSpec& d, const entry& e) {
  d.set_kind("video");
  d.set_backend("gstreamer");
  auto& o = *d.mutable_options();
  o["sink"] = "null", o["width"] = "1280", o["height"] = "720", o["fps"] = "30";
  for (const auto& f : entries(c, e.value, "in video device " + q(e.key), &video_device_keys))
    video_device_field(c, d, f);
  video_device_check(c, d, e);
}

void device(context& c, const entry& e) {
  // The device is recorded even when broken, so nodes naming it do not report it twice.
  auto& d = *c.spec.add_devices();
  d.set_name(e.key);
  d.set_backend("auto");
  d.set_sample_rate(default_sample_rate);
  d.set_block(default_block);
  d.set_channels(default_channels);
  if (!is_identifier(e.key))
    c.report.error(at(e.key_node),
                   "invalid device name " + q(e.key) + ": expected " + identifier_rule);
  if (!e.value.IsMap()) {
    c.report.error(at(e.value.IsNull() ? e.key_node : e.value),
                   "expected a mapping for device " + q(e.key) + " (" + join(device_keys) + ")");
    return;
  }
  const YAML::Node kind = e.value["kind"];
  if (kind && kind.IsScalar() && kind.Scalar() == "video") {
    video_device(c, d, e);
    return;
  }
  if (kind && kind.IsScalar() && kind.Scalar() == "midi") {
    midi_device(c, d, e);
    return;
  }
  bool has_kind = false;
  for (const auto& f : entries(c, e.value, "in device " + q(e.key), &device_keys)) {
    has_kind = has_kind || f.key == "kind";
    device_field(c, d, f);
  }
  if (!has_kind)
    c.report.error(at(e.value), "device " + q(e.key) + " has no 'kind': expected 'kind: audio'");
}

// ---------------------------------------------------------------------------------------------
// Pass 2

/// A node playing video needs a video device, one playing audio an audio device.
void check_device_kind(context& c, size_t i, const node_info& info) {
  const auto& n = c.spec.nodes(static_cast<int>(i));
  bool video = false;
  for (const auto& p : info.ports)
    video = video || p.kind == media_kind::video;
  const std::string wanted = !info.device_kind.empty() ? info.device_kind
                             : video                   ? "video"
                                                       : "audio";
  for (const auto& d : c.spec.devices())
    if (d.name() == n.device() && d.kind() != wanted && !d.kind().empty())
      c.report.error(c.node_src[i].device, "device " + q(d.name()) + " is " +
                                             (d.kind() == "audio"  ? "an audio"
                                              : d.kind() == "midi" ? "a MIDI"
                                                                   : "a video") +
                                             " device but " + label(c, i) + " plays " + wanted +
                                             ": expected a device with kind: " + wanted);
}

/// Where node `i`'s parameter `name` was written, or the node itself when it was not.
pos param_pos(const context& c, size_t i, const std::string& name) {
  for (const auto& e : c.node_src[i].params)
    if (e.key == name)
      return at(e.value);
  return c.node_src[i].item;
}

/// The device channels node `i` uses (audio.input, audio.output) fit the device: within a count
/// the file sets, else the count grows to them.
void check_device_channels(context& c, size_t i) {
  const node_info* info = c.nodes[i].info;
  auto& n = *c.spec.mutable_nodes(static_cast<int>(i));
  if (!info || info->device_channels_param.empty() || n.device().empty())
    return;
  auto it = n.params().find(info->device_channels_param);
  const std::string listed = it != n.params().end() ? it->second.string_value() : "";
  const uint32_t highest = highest_channel(listed);
  for (auto& d : *c.spec.mutable_devices()) {
    if (d.name() != n.device() || d.kind() != "audio")
      continue;
    const bool in = info->device_inputs;
    const auto& declared = in ? c.declared_inputs : c.declared_outputs;
    const uint32_t count = in ? d.inputs() : d.channels();
    if (highest <= count)
      return;
    if (declared.count(d.name()))
      c.report.error(param_pos(c, i, info->device_channels_param),
                     label(c, i) + " uses channel " + std::to_string(highest) + " but device " +
                       q(d.name()) + " has " + std::to_string(count) +
                       (in ? " input" : " output") + (count == 1 ? "" : "s") + " (line " +
                       std::to_string(declared.at(d.name()).line) + "): expected " +
                       (count > 0 ? "channels 1.." + std::to_string(count) + ", or " : "") +
                       "more " + (in ? "inputs" : "outputs") + " on the device");
    else if (in)
      d.set_inputs(highest);
    else
      d.set_channels(highest);
    return;
  }
}

} // namespace

void read_hosts(context& c, const entry& e) {
  if (e.value.IsNull())
    return;
  if (!e.value.IsMap()) {
    c.report.error(at(e.value), "expected a mapping of host name to address for 'hosts'");
    return;
  }
  for (const auto& h : entries(c, e.value, "in 'hosts'", nullptr)) {
    if (!is_identifier(h.key))
      c.report.error(at(h.key_node),
                     "invalid host name " + q(h.key) + ": expected " + identifier_rule);
    if (auto addr = string_field(c, h, "host " + q(h.key) + " (its address)"))
      (*c.spec.mutable_hosts())[h.key] = *addr;
  }
}

void read_devices(context& c, const entry& e) {
  if (e.value.IsNull())
    return;
  if (!e.value.IsMap()) {
    c.report.error(at(e.value), "expected a mapping of device name to settings for 'devices'");
    return;
  }
  for (const auto& d : entries(c, e.value, "in 'devices'", nullptr))
    device(c, d);
}

void check_placement(context& c, size_t i) {
  const auto& n = c.spec.nodes(static_cast<int>(i));
  const auto& s = c.node_src[i];
  const node_info* info = c.nodes[i].info;
  names devices;
  for (const auto& d : c.spec.devices())
    devices.push_back(d.name());
  if (!n.device().empty()) {
    if (!contains(devices, n.device()))
      c.report.error(s.device,
                     "unknown device " + q(n.device()) + ": expected one of " +
                       (devices.empty() ? "the keys of 'devices' (none declared)" : join(devices)));
    else if (info && !info->needs_device)
      c.report.error(s.device, "node type " + info->type +
                                 " does not play on a device: "
                                 "expected no 'device' (only types such as audio.output take one)");
    else if (info)
      check_device_kind(c, i, *info);
  } else if (info && info->needs_device && !s.device_given) {
    c.report.error(s.item,
                   label(c, i) + " needs a device: expected 'device: <name>' naming one of " +
                     (devices.empty() ? "the keys of 'devices' (none declared)" : join(devices)));
  }
  check_device_channels(c, i);
  if (n.host().empty() || c.spec.hosts().count(n.host()) > 0)
    return;
  names hosts;
  for (const auto& [name, addr] : c.spec.hosts())
    hosts.push_back(name);
  std::sort(hosts.begin(), hosts.end());
  c.report.error(s.host, "unknown host " + q(n.host()) + ": expected one of " +
                           (hosts.empty() ? "the keys of 'hosts' (none declared)" : join(hosts)));
}

} // namespace sg::graph_load
