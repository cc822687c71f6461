#pragma once
// The words users type and read for each choice-valued setting, one table per enum: flags
// parse them (validators.h, enum_names), reports print them (name_of). A new choice is one
// table line.
#include <span>
#include <string_view>

#include "base/tensor.h"
#include "base/terminal.h"
#include "core/network.h"

namespace gf {

enum class WeightsMode { automatic, store, regenerate };

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

std::span<const EnumName<InputKind>> input_kind_names();
std::span<const EnumName<LossKind>> loss_kind_names();
std::span<const EnumName<Dtype>> dtype_names();
std::span<const EnumName<WeightsMode>> weights_mode_names();
std::span<const EnumName<ColorMode>> color_mode_names();
std::span<const EnumName<NormKind>> norm_kind_names();
std::span<const EnumName<NormPosition>> norm_position_names();

template <class E>
std::string_view name_of(std::span<const EnumName<E>> table, E value) {
  for (const EnumName<E>& e : table)
    if (e.value == value) return e.name;
  return "?";
}

inline std::string_view input_name(InputKind k) { return name_of(input_kind_names(), k); }
inline std::string_view loss_name(LossKind k) { return name_of(loss_kind_names(), k); }
inline std::string_view dtype_name(Dtype d) { return name_of(dtype_names(), d); }
inline std::string_view weights_mode_name(WeightsMode m) { return name_of(weights_mode_names(), m); }
inline std::string_view norm_name(NormKind k) { return name_of(norm_kind_names(), k); }
inline std::string_view norm_position_name(NormPosition k) { return name_of(norm_position_names(), k); }

}  // namespace gf
