#pragma once
// A classification dataset for `gradflow train`: features and class labels, split into a
// training and a held-out test set. Built-in generators (dataset_builtin.h) and CSV files
// (dataset_csv.h) both produce one; input_transform.h rescales features afterwards.
#include <cstdint>
#include <string>
#include <vector>

#include "base/tensor.h"

namespace gf {

struct Dataset {
  std::string name;                      // "spirals", "blobs", "teacher", or the CSV path
  Index features = 0, classes = 0;
  Mat<double> x_train, x_test;           // (n, features), one sample per row
  std::vector<std::uint32_t> y_train, y_test;
  std::vector<std::string> feature_names;
  std::vector<std::string> class_names;  // class k's label as written in the data
  // A CSV's: FNV-1a 64 (base/fnv1a.h) of the very bytes parsed, the whole file with any byte-order
  // mark, so that the hash a run records is of what it read (0 for a built-in dataset).
  std::uint64_t bytes_fnv1a64 = 0;

  Index n_train() const { return x_train.rows(); }
  Index n_test() const { return x_test.rows(); }
};

// Per-class sample counts of labels, for summaries and tests.
std::vector<Index> class_counts(const std::vector<std::uint32_t>& labels, Index classes);

// How features are presented to the network (train's --input and --standardize), using the
// training set's statistics only, so the test set is transformed as unseen data would be.
enum class FeatureScaling {
  none,         // as generated or read
  standardize,  // each feature to mean 0, std 1
  symmetric,    // each feature min..max to [-1, 1]
  positive      // each feature min..max to [0, 1]: all-positive inputs
};
void scale_features(Dataset& d, FeatureScaling s);

}  // namespace gf
