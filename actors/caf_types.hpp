#pragma once

/// CAF type registration for every message the actors exchange.
///
/// All control messages are protobuf types. CAF serialises them through the protobuf wire
/// format (one length-prefixed byte string), so an actor works unchanged when its peer runs on
/// another host behind CAF's middleman.

#include <string>
#include <type_traits>

#include <caf/all.hpp>

#include "studiograph/v1/control.pb.h"
#include "studiograph/v1/events.pb.h"
#include "studiograph/v1/graph.pb.h"

namespace studiograph::v1 {

/// Serialises any protobuf message as its wire bytes (readable text for to_string).
template <class Inspector, class T>
std::enable_if_t<std::is_base_of_v<google::protobuf::Message, T>,
                 typename Inspector::result_type>
inspect(Inspector& f, T& x) {
  if constexpr (std::is_same_v<Inspector, caf::detail::stringification_inspector>) {
    return f(caf::meta::type_name(T::descriptor()->full_name().c_str()), x.ShortDebugString());
  } else if constexpr (Inspector::reads_state) {
    std::string bytes;
    x.SerializeToString(&bytes);
    return f(caf::meta::type_name(T::descriptor()->full_name().c_str()), bytes);
  } else {
    std::string bytes;
    auto load = caf::meta::load_callback([&]() -> caf::error {
      if (!x.ParseFromString(bytes))
        return caf::make_error(caf::sec::invalid_argument);
      return caf::none;
    });
    return f(caf::meta::type_name(T::descriptor()->full_name().c_str()), bytes, load);
  }
}

} // namespace studiograph::v1

CAF_BEGIN_TYPE_ID_BLOCK(studiograph, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::ApplyGraphRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::ApplyGraphReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::DeviceSpec))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::DeviceStatus))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::DomainPlan))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::Event))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::GetGraphRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::GetGraphReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::GetNodeRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::GetNodeReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::GraphSpec))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::KernelEvent))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::KernelParam))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::ListNodesRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::ListNodesReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::NodeSpec))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::NodeState))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::SetParamRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::SetParamReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::Snapshot))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::Status))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::StatusRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::StatusReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::SubscribeRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::DeletePresetRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::DeletePresetReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::ListPresetsRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::ListPresetsReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::LoadPresetRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::LoadPresetReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::PersistClear))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::PersistParam))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::Preset))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::PresetNode))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::PresetReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::SavePresetRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::SavePresetReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::SettleRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::TriggerRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::TriggerReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::StoredState))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::SetParamsRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::SetParamsReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::BypassRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::BypassReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::ListPanelsRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::ListPanelsReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::GetPanelRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::PutPanelRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::ActivatePanelRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::DeletePanelRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::PanelReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::LearnRequest))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::LearnReply))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::StoredPanels))
  CAF_ADD_TYPE_ID(studiograph, (studiograph::v1::PanelWrite))

  CAF_ADD_ATOM(studiograph, sg, resync_atom, "resync")
  CAF_ADD_ATOM(studiograph, sg, flush_atom, "flush")
  CAF_ADD_ATOM(studiograph, sg, begin_load_atom, "beginLoad")
  CAF_ADD_ATOM(studiograph, sg, end_load_atom, "endLoad")
  CAF_ADD_ATOM(studiograph, sg, rebind_atom, "rebind")

CAF_END_TYPE_ID_BLOCK(studiograph)
