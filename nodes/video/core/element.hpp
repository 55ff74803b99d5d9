#pragma once

/// The GStreamer side of a video node: what one node instance becomes inside its video
/// device's pipeline. Built by the device actor (hardware/video_pipeline.cpp) from the node's
/// effective parameters; live parameters are applied from the device actor's own thread
/// (never a streaming thread) through GObject properties, which GStreamer guards with the
/// object lock, so a change lands between two frames.
///
/// Failures follow nodes/core/expected.hpp: `build`, `set` and the helpers return
/// `expected`, the message saying what is wrong without the node's name (the pipeline
/// prefixes "node 'id' (type): "). A helper's failure is passed on as it is, and a run of
/// `add`s stops at the first that fails:
///
///   auto src = add("videotestsrc", "src");
///   auto caps = src ? add("capsfilter", "caps") : src;
///   if (!caps)
///     return unexpected(caps.error());  // "GStreamer element '...' is not installed ..."

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nodes/core/expected.hpp"
#include "nodes/core/node_info.hpp"

namespace sg::video {

/// What a node needs to build itself.
struct build_context {
  std::string id;
  const node_info* info = nullptr;
  param_values values;
  /// The device's output format: sizes given as 0 mean these.
  int width = 1280, height = 720, fps = 30;
};

/// A rectangle in pixels.
struct rect {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const rect&) const = default;
};

class element {
public:
  virtual ~element() = default;

  /// thread: control. Creates the node's bin, named after the node id, with ghost pads named
  /// after its ports ("out", "in", "in1".."inN"); fails when the node cannot be built: bad
  /// fragment, missing file...
  virtual expected<void> build(const build_context& ctx) = 0;

  /// thread: device actor. A live parameter changed to `value` (numbers, bools, choice
  /// index) or `text` (string parameters). A failure means nothing was changed.
  virtual expected<void> set(int index, double value, const std::string& text) { return {}; }

  /// thread: device actor, after the pipeline started and on every tick. True when something
  /// the node shows changed by itself (a compositor input negotiated its size).
  virtual bool poll() { return false; }

  /// The bin (owned by the pipeline once added to it).
  GstElement* bin() const { return bin_; }

protected:
  /// Makes `bin_` named `id`; helpers below add elements and ghost pads to it.
  void make_bin(const std::string& id);
  /// Creates `factory` named `name` inside the bin; fails when the element does not exist on
  /// this machine (naming the Debian package that ships it when known).
  expected<GstElement*> add(const char* factory, const std::string& name);
  /// Exposes `pad` of `e` as the bin's ghost pad `name`; fails when `e` has no such pad.
  expected<void> ghost(GstElement* e, const char* pad, const std::string& name);
  /// The two ends of a chain of elements inside the bin.
  struct chain_ends {
    GstElement* head = nullptr;  // its sink pad takes the input
    GstElement* tail = nullptr;  // its src pad gives the output
  };
  /// videoconvert ! videoscale ! videorate ! capsfilter (w x h at fps) inside the bin, linked;
  /// `head` is the videoconvert, `tail` the capsfilter.
  expected<chain_ends> format_chain(int w, int h, int fps);

  GstElement* bin_ = nullptr;
};

/// The element factory of a video node type, or null for types with no element.
using element_factory = std::function<std::unique_ptr<element>()>;
const element_factory* find_element_factory(std::string_view type);

/// Video caps "video/x-raw,width=W,height=H,framerate=F/1" (0 leaves a field open).
GstCaps* raw_caps(int width, int height, int fps, const char* format = nullptr);

/// Whether GStreamer has `factory` (tests skip with a reason when it does not).
bool has_element(const char* factory);

/// The Debian package that ships `factory`, for error messages.
const char* package_of(std::string_view factory);

} // namespace sg::video
