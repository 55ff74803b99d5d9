#pragma once

/// The typed protocol of every actor role: what each one accepts, in one place.

#include "actors/caf_types.hpp"

namespace sg {

namespace v1 = studiograph::v1;

/// Event hub: ordered publish/subscribe plus a mirror of the latest state for snapshots.
/// - v1::Event: publish (the hub stamps time; subscribers get a per-subscription `seq`)
/// - v1::Snapshot: replace the mirror (sent by the host when a graph starts)
/// - (subscribe_atom, sink, filter) -> id: `sink` receives v1::Event, a Snapshot first
/// - (unsubscribe_atom, id)
/// - (resync_atom) from a sink: it fell behind; send it a fresh Snapshot
/// - (get_atom) -> v1::Snapshot
using hub_actor = caf::typed_actor<
  caf::reacts_to<v1::Event>,
  caf::reacts_to<v1::Snapshot>,
  caf::replies_to<caf::subscribe_atom, caf::actor, v1::SubscribeRequest>::with<uint64_t>,
  caf::reacts_to<caf::unsubscribe_atom, uint64_t>,
  caf::reacts_to<sg::resync_atom>,
  caf::replies_to<caf::get_atom>::with<v1::Snapshot>>;

/// A device actor: owns one device's realtime thread and render engine.
/// - (open_atom) -> Status: opens the device and starts rendering the domain
/// - (close_atom) -> DeviceStatus: stops it and lets the hardware go before answering (the
///   status it had, backend included), so the next device can open it
/// - v1::DomainPlan -> Status: swap in a plan for changed nodes/edges, keeping unchanged kernels
/// - v1::KernelParam: a live parameter for a kernel slot
/// - v1::KernelEvent: a note or trigger for a kernel slot
/// - (tick_atom): drains telemetry, publishes meters and device status
/// - v1::StatusRequest -> DeviceStatus
using device_actor = caf::typed_actor<
  caf::replies_to<caf::open_atom>::with<v1::Status>,
  caf::replies_to<caf::close_atom>::with<v1::DeviceStatus>,
  caf::replies_to<v1::DomainPlan>::with<v1::Status>,
  caf::reacts_to<v1::KernelParam>,
  caf::reacts_to<v1::KernelEvent>,
  caf::reacts_to<caf::tick_atom>,
  caf::replies_to<v1::StatusRequest>::with<v1::DeviceStatus>>;

/// A video device actor (actors/devices/video_device.hpp): the device protocol plus
/// - v1::Event: from the hub, ParamChanged echoes of its nodes (string values, and the origin
///   a compositor's VideoLayout is stamped with); from anyone, a `video_frame` for the
///   video.framesrc node named by `node_id`
using video_device_actor = device_actor::extend<caf::reacts_to<v1::Event>>;

/// A node authority: the only writer of its parameters (actors/node_actor.hpp).
/// - SetParamRequest / SettleRequest -> SetParamReply: intents (queued while loading)
/// - TriggerRequest -> TriggerReply: a note or trigger for the node's kernel
/// - SetParamsRequest -> SetParamsReply: several intents, all or none (refused while loading)
/// - BypassRequest -> BypassReply: switch the kernel's bypass (refused while loading)
/// - GetNodeRequest -> GetNodeReply: every layer of every parameter
/// - (begin_load_atom) -> NodeState: hold intents from now on; the state to build on
/// - (end_load_atom): apply the held intents in order
/// - (PresetNode, LoadPresetRequest) -> uint32_t: set committed values, clear their overlays
/// - (rebind_atom, device, slot, NodeState): a graph apply kept this node; take
///   the new layers and kernel binding (`device` is a device_actor, null when the node has no
///   kernel), push effective values to the kernel
using node_actor = caf::typed_actor<
  caf::replies_to<v1::SetParamRequest>::with<v1::SetParamReply>,
  caf::replies_to<v1::SettleRequest>::with<v1::SetParamReply>,
  caf::replies_to<v1::TriggerRequest>::with<v1::TriggerReply>,
  caf::replies_to<v1::SetParamsRequest>::with<v1::SetParamsReply>,
  caf::replies_to<v1::BypassRequest>::with<v1::BypassReply>,
  caf::replies_to<v1::GetNodeRequest>::with<v1::GetNodeReply>,
  caf::replies_to<sg::begin_load_atom>::with<v1::NodeState>,
  caf::reacts_to<sg::end_load_atom>,
  caf::replies_to<v1::PresetNode, v1::LoadPresetRequest>::with<uint32_t>,
  caf::reacts_to<sg::rebind_atom, caf::actor, uint32_t, v1::NodeState>,
  caf::reacts_to<caf::tick_atom>>;

/// The persistence writer (node type store.sqlite): owns the SQLite database (WAL) in its own
/// thread.
/// - v1::PersistParam: a committed value to store; coalesced per (node, param) and written in
///   one transaction at most `flush_ms` later, then a StateDurable event goes to the hub
/// - v1::PersistClear: removes stored values (a node removed, or parameters that no longer map)
/// - (get_atom) -> StoredState: every stored value (the base layer when a graph starts)
/// - (flush_atom) -> uint64_t: writes what is pending now; replies with the last durable batch
/// - v1::Preset -> Status: saves (replaces) a preset
/// - (get_atom, name) -> PresetReply: NOT_FOUND when absent
/// - ListPresetsRequest -> ListPresetsReply, DeletePresetRequest -> DeletePresetReply
/// - ListPanelsRequest -> StoredPanels: every stored panel
/// - PanelWrite -> Status: deletes and saves panels in one transaction (synchronously)
using store_actor = caf::typed_actor<
  caf::reacts_to<v1::PersistParam>,
  caf::reacts_to<v1::PersistClear>,
  caf::replies_to<caf::get_atom>::with<v1::StoredState>,
  caf::replies_to<sg::flush_atom>::with<uint64_t>,
  caf::replies_to<v1::Preset>::with<v1::Status>,
  caf::replies_to<caf::get_atom, std::string>::with<v1::PresetReply>,
  caf::replies_to<v1::ListPresetsRequest>::with<v1::ListPresetsReply>,
  caf::replies_to<v1::DeletePresetRequest>::with<v1::DeletePresetReply>,
  caf::replies_to<v1::ListPanelsRequest>::with<v1::StoredPanels>,
  caf::replies_to<v1::PanelWrite>::with<v1::Status>>;

/// The panel authority (actors/panels/panels.hpp): owns every pad and knob panel, routes
/// MIDI input through the active panels' mappings, answers MIDI learn.
/// - ListPanelsRequest, GetPanelRequest, PutPanelRequest, ActivatePanelRequest,
///   DeletePanelRequest -> the replies above; LearnRequest -> LearnReply (when a control moves)
/// - v1::Event: from the hub (parameter mirror, MIDI input)
/// - (timeout_atom, learn id): to itself, a learn waited long enough
using panel_actor = caf::typed_actor<
  caf::replies_to<v1::ListPanelsRequest>::with<v1::ListPanelsReply>,
  caf::replies_to<v1::GetPanelRequest>::with<v1::PanelReply>,
  caf::replies_to<v1::PutPanelRequest>::with<v1::PanelReply>,
  caf::replies_to<v1::ActivatePanelRequest>::with<v1::PanelReply>,
  caf::replies_to<v1::DeletePanelRequest>::with<v1::PanelReply>,
  caf::replies_to<v1::LearnRequest>::with<v1::LearnReply>,
  caf::reacts_to<caf::timeout_atom, uint64_t>,
  caf::reacts_to<v1::Event>>;

/// The host actor: spawns and supervises the node and device actors and the persistence writer
/// of its machine, applies graphs as diffs and presets under the loading guard, and routes
/// requests to the node authorities.
/// - (flush_atom) -> uint64_t: the persistence writer's last durable batch after a flush
using host_actor = caf::typed_actor<
  caf::replies_to<v1::ApplyGraphRequest>::with<v1::ApplyGraphReply>,
  caf::replies_to<v1::ListNodesRequest>::with<v1::ListNodesReply>,
  caf::replies_to<v1::GetNodeRequest>::with<v1::GetNodeReply>,
  caf::replies_to<v1::SetParamRequest>::with<v1::SetParamReply>,
  caf::replies_to<v1::SettleRequest>::with<v1::SetParamReply>,
  caf::replies_to<v1::TriggerRequest>::with<v1::TriggerReply>,
  caf::replies_to<v1::SetParamsRequest>::with<v1::SetParamsReply>,
  caf::replies_to<v1::BypassRequest>::with<v1::BypassReply>,
  caf::replies_to<v1::GetGraphRequest>::with<v1::GetGraphReply>,
  caf::replies_to<v1::StatusRequest>::with<v1::StatusReply>,
  caf::replies_to<v1::SavePresetRequest>::with<v1::SavePresetReply>,
  caf::replies_to<v1::LoadPresetRequest>::with<v1::LoadPresetReply>,
  caf::replies_to<v1::ListPresetsRequest>::with<v1::ListPresetsReply>,
  caf::replies_to<v1::DeletePresetRequest>::with<v1::DeletePresetReply>,
  caf::replies_to<v1::ListPanelsRequest>::with<v1::ListPanelsReply>,
  caf::replies_to<v1::GetPanelRequest>::with<v1::PanelReply>,
  caf::replies_to<v1::PutPanelRequest>::with<v1::PanelReply>,
  caf::replies_to<v1::ActivatePanelRequest>::with<v1::PanelReply>,
  caf::replies_to<v1::DeletePanelRequest>::with<v1::PanelReply>,
  caf::replies_to<v1::LearnRequest>::with<v1::LearnReply>,
  caf::replies_to<sg::flush_atom>::with<uint64_t>>;

/// google.rpc.Code numbers used in v1::Status.
enum status_code : int32_t {
  code_ok = 0,
  code_invalid_argument = 3,
  code_deadline_exceeded = 4,
  code_not_found = 5,
  code_already_exists = 6,
  code_resource_exhausted = 8,
  code_failed_precondition = 9,
  code_internal = 13,
  code_unavailable = 14,
};

inline v1::Status make_status(status_code code, std::string message, std::string field = {}) {
  v1::Status s;
  s.set_code(code);
  s.set_message(std::move(message));
  s.set_field(std::move(field));
  return s;
}

/// The one way to answer a request with a status other than ok: any reply that carries a
/// v1::Status. `field` names the request field at fault (empty when none is); `message` is what
/// the caller reads, and starts with that field by convention ("value: expected 0..1").
template <class Reply>
Reply status_reply(status_code code, std::string field, std::string message) {
  Reply reply;
  *reply.mutable_status() = make_status(code, std::move(message), std::move(field));
  return reply;
}

} // namespace sg
