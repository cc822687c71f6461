#include "core/jacobian.h"

#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "base/errors.h"
#include "base/interrupt.h"
#include "base/thread_team.h"
#include "core/op_table.h"
#include "core/rng.h"

namespace gf {

namespace {

// Takes the power of 2 nearest below J's largest |entry| out of J (exact): entries stay in
// [1, 2) at the top whatever the depth. An all-zero J (every unit of a layer flat) stays 0.
int take_out_power_of_2(Mat<double>& J) {
  const double top = J.cwiseAbs().maxCoeff();
  if (!(top > 0) || !std::isfinite(top)) return 0;
  const int e = std::ilogb(top);
  J *= std::ldexp(1.0, -e);
  return e;
}

}  // namespace

template <class T>
Jacobians jacobians(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassResult& pass,
                    Index samples, Index from, Index probes) {
  if (!partial_jacobian_layer(s, from))  // analysis.cc's validate names the flag; this guards other callers
    throw UsageError(fmt::format("--jacobian-depths: d a_L / d a_{} is not a walk of whole ops", from));
  const Index L = s.depth(), n0 = s.width(from);
  const auto S = static_cast<std::size_t>(samples);
  JacobianWalk<T> walk{s, p, ws, pass, std::max(1, s.threads), {}, {}, std::vector<int>(S, 0), 0, {}, {}, 0};
  if (probes == 0) {
    walk.J.assign(S, Mat<double>::Identity(n0, n0));
  } else {
    walk.J.assign(S, Mat<double>(n0, probes));
    for (std::size_t k = 0; k < S; ++k)
      fill_normal<double>({s.seed, Stream::jacobian_probes, static_cast<std::uint32_t>(k)}, 0, walk.J[k].data(),
                          static_cast<std::size_t>(walk.J[k].size()));
  }
  walk.next.resize(S);
  for (Index l = from + 1; l <= L; ++l) {
    throw_if_interrupted();
    const auto step = op_kernels<T>(s.op(l).kind).jacobian;
    if (!step)
      throw UsageError(fmt::format("--jacobian: op {} is a {} op, which has no Jacobian step yet (dense layers "
                                   "have one)",
                                   l, op_kind_name(s.op(l).kind)));
    step(walk, l);
    std::swap(walk.J, walk.next);
    for (std::size_t k = 0; k < S; ++k) walk.log2_scale[k] += take_out_power_of_2(walk.J[k]);
  }
  Jacobians out{std::move(walk.J), std::vector<double>(S)};
  for (std::size_t k = 0; k < S; ++k) out.log10_scale[k] = walk.log2_scale[k] * std::log10(2.0) + walk.log10_scale;
  return out;
}

template <class T>
JacobianSpectra jacobian_spectra(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassResult& pass,
                                 Index samples, Index from) {
  const Jacobians js = jacobians(s, p, ws, pass, samples, from);
  const std::size_t S = js.J.size();
  JacobianSpectra out{std::vector<Vec<double>>(S), js.log10_scale, s.depth() - from, s.width(s.depth()), s.width(from)};
  // One sample per thread: each SVD is the same computation for any thread count.
  parallel_for(static_cast<std::ptrdiff_t>(S), s.threads, [&](std::ptrdiff_t k) {
    out.s[static_cast<std::size_t>(k)] = Eigen::BDCSVD<Mat<double>>(js.J[static_cast<std::size_t>(k)]).singularValues();
  });
  throw_if_interrupted();
  return out;
}

bool partial_jacobian_layer(const NetworkSpec& s, Index l) {
  if (l < 0 || l >= s.depth()) return false;
  const LayerOp& next = s.op(l + 1);
  return l == 0 || next.block == 0 || next.kind == OpKind::branch_in;
}

std::uint64_t jacobian_bytes(const NetworkSpec& s, Index samples, bool partials, Index probes) {
  const bool residual = std::any_of(s.ops.begin(), s.ops.end(), [](const LayerOp& op) { return op.kind == OpKind::skip_add; });
  const Index cols = probes > 0 ? probes : partials ? std::max(s.input_width, s.max_width()) : s.input_width;
  return std::uint64_t{residual ? 3u : 2u} * static_cast<std::uint64_t>(samples) * static_cast<std::uint64_t>(s.max_width()) *
         static_cast<std::uint64_t>(cols) * sizeof(double);
}

template Jacobians jacobians<float>(const NetworkSpec&, const Params<float>&, Workspace<float>&, const PassResult&,
                                    Index, Index, Index);
template Jacobians jacobians<double>(const NetworkSpec&, const Params<double>&, Workspace<double>&,
                                     const PassResult&, Index, Index, Index);
template JacobianSpectra jacobian_spectra<float>(const NetworkSpec&, const Params<float>&, Workspace<float>&,
                                                 const PassResult&, Index, Index);
template JacobianSpectra jacobian_spectra<double>(const NetworkSpec&, const Params<double>&, Workspace<double>&,
                                                  const PassResult&, Index, Index);

}  // namespace gf
