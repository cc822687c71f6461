#pragma once
// The built-in datasets of `gradflow train --data`: small, synthetic, and a pure function of
// their parameters and --data-seed. Sample i has class i % classes, so every prefix of the
// data (and the evaluation batch) is balanced; the test set is drawn after the training set
// from the same distribution, so --n-test never changes the training set.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "train/dataset.h"

namespace gf {

struct BuiltinDataSpec {
  std::string name = "spirals";
  Index classes = 3;
  Index n_train = 1000, n_test = 1000;
  Index input_dim = 0;           // 0: the dataset's default
  std::optional<double> noise;   // unset: the dataset's default
  Index teacher_depth = 2;
  std::uint64_t seed = 0;        // --data-seed
};

struct BuiltinData {
  std::string_view name;
  std::string_view description;  // for --help
  Index default_input_dim;
  bool fixed_input_dim;          // --input-dim must be the default
  double default_noise;
  std::string_view noise_meaning;
};

std::span<const BuiltinData> builtin_datasets();
const BuiltinData* find_builtin_data(std::string_view name);  // nullptr if unknown

// Throws UsageError when a parameter does not fit the dataset.
Dataset make_builtin_dataset(const BuiltinDataSpec& spec);

// Width of every hidden layer of the teacher network.
inline constexpr Index kTeacherWidth = 32;

}  // namespace gf
