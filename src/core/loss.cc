#include "core/loss.h"

#include <cmath>

namespace gf {

template <class T>
double loss_forward(LossKind kind, const Mat<T>& z, const std::vector<std::uint32_t>& labels,
                    const Mat<T>& targets) {
  const auto B = static_cast<double>(z.rows());
  const Mat<double> zd = z.template cast<double>();
  switch (kind) {
    case LossKind::xent: {
      double total = 0;
      for (Index i = 0; i < zd.rows(); ++i) {
        const double m = zd.row(i).maxCoeff();
        total += m + std::log((zd.row(i).array() - m).exp().sum()) - zd(i, labels[i]);
      }
      return total / B;
    }
    case LossKind::mse:
      return 0.5 * (zd - targets.template cast<double>()).squaredNorm() / B;
    case LossKind::random:
      return (zd.array() * targets.template cast<double>().array()).sum() / B;
  }
  return 0;
}

template <class T>
void loss_backward(LossKind kind, const Mat<T>& z, const std::vector<std::uint32_t>& labels,
                   const Mat<T>& targets, Mat<T>& d_z) {
  const T inv_B = T(1) / static_cast<T>(z.rows());
  switch (kind) {
    case LossKind::xent:
      for (Index i = 0; i < z.rows(); ++i) {
        const T m = z.row(i).maxCoeff();
        d_z.row(i) = (z.row(i).array() - m).exp();
        d_z.row(i) /= d_z.row(i).sum();
        d_z(i, labels[i]) -= T(1);
      }
      d_z *= inv_B;
      break;
    case LossKind::mse: d_z = (z - targets) * inv_B; break;
    case LossKind::random: d_z = targets * inv_B; break;
  }
}

template double loss_forward<float>(LossKind, const Mat<float>&, const std::vector<std::uint32_t>&,
                                    const Mat<float>&);
template double loss_forward<double>(LossKind, const Mat<double>&, const std::vector<std::uint32_t>&,
                                     const Mat<double>&);
template void loss_backward<float>(LossKind, const Mat<float>&, const std::vector<std::uint32_t>&,
                                   const Mat<float>&, Mat<float>&);
template void loss_backward<double>(LossKind, const Mat<double>&, const std::vector<std::uint32_t>&,
                                    const Mat<double>&, Mat<double>&);

}  // namespace gf
