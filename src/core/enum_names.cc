#include "core/enum_names.h"

namespace gf {

namespace {
const EnumName<InputKind> kInputs[] = {
    {"normal", InputKind::normal}, {"uniform", InputKind::uniform}, {"positive", InputKind::positive}};
const EnumName<LossKind> kLosses[] = {
    {"xent", LossKind::xent}, {"mse", LossKind::mse}, {"random", LossKind::random}};
const EnumName<Dtype> kDtypes[] = {{"f32", Dtype::f32}, {"f64", Dtype::f64}};
const EnumName<WeightsMode> kWeightsModes[] = {
    {"auto", WeightsMode::automatic}, {"store", WeightsMode::store}, {"regenerate", WeightsMode::regenerate}};
const EnumName<ColorMode> kColorModes[] = {
    {"auto", ColorMode::automatic}, {"always", ColorMode::always}, {"never", ColorMode::never}};
const EnumName<NormKind> kNorms[] = {
    {"none", NormKind::none}, {"batch", NormKind::batch}, {"layer", NormKind::layer}, {"rms", NormKind::rms}};
const EnumName<NormPosition> kNormPositions[] = {{"pre", NormPosition::pre}, {"post", NormPosition::post}};
}  // namespace

std::span<const EnumName<NormKind>> norm_kind_names() { return kNorms; }
std::span<const EnumName<NormPosition>> norm_position_names() { return kNormPositions; }
std::span<const EnumName<InputKind>> input_kind_names() { return kInputs; }
std::span<const EnumName<LossKind>> loss_kind_names() { return kLosses; }
std::span<const EnumName<Dtype>> dtype_names() { return kDtypes; }
std::span<const EnumName<WeightsMode>> weights_mode_names() { return kWeightsModes; }
std::span<const EnumName<ColorMode>> color_mode_names() { return kColorModes; }

}  // namespace gf
