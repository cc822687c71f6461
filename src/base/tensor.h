#pragma once
// Matrix vocabulary shared by the engine. Activations are column-major (B, n): a block of
// units is one contiguous slab, so per-unit statistics and per-unit kernels need no strides.
// Weights are row-major (n_out, n_in): W[i, j] is element i * n_in + j, the random draw's index.
#include <Eigen/Core>

namespace gf {

using Index = Eigen::Index;

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

template <class T>
using MatRef = Eigen::Ref<Mat<T>>;
template <class T>
using ConstMatRef = Eigen::Ref<const Mat<T>>;
template <class T>
using RowMatRef = Eigen::Ref<RowMat<T>>;
template <class T>
using ConstRowMatRef = Eigen::Ref<const RowMat<T>>;
// The stride spelled out (it is Eigen's default for a vector): clang 14 otherwise mangles the
// defaulted argument of Ref<const Vec<T>> two ways, and the fuzz build (tests/fuzz) cannot link.
template <class T>
using ConstVecRef = Eigen::Ref<const Vec<T>, 0, Eigen::InnerStride<1>>;
template <class T>
using VecRef = Eigen::Ref<Vec<T>, 0, Eigen::InnerStride<1>>;

// A flat buffer seen as a (rows, cols) column-major matrix: the ping-pong gradient buffers are
// sized once for the widest layer and reused at every width.
template <class T>
Eigen::Map<Mat<T>> as_matrix(Vec<T>& buffer, Index rows, Index cols) {
  return {buffer.data(), rows, cols};
}

enum class Dtype { f32, f64 };

}  // namespace gf
