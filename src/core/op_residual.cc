#include "core/op_residual.h"

#include <algorithm>
#include <cmath>

#include "base/reduce.h"
#include "core/op_dense.h"
#include "core/op_norm.h"

namespace gf {

namespace {

// Brock et al. 2021's "average channel variance": each unit's variance over the batch (biased),
// averaged over units, in double and in unit order (independent of threads).
template <class T>
double average_channel_variance(const Mat<T>& a) {
  double total = 0;
  for (Index j = 0; j < a.cols(); ++j) {
    const Moments m = moments_of(a.col(j).data(), a.rows());
    total += m.m2 / m.n;
  }
  return total / static_cast<double>(a.cols());
}

// The block's alpha now: learned (Params::alpha) or fixed (the op's).
template <class T>
double block_alpha(const Params<T>& p, const LayerOp& op, Index l) {
  return op.learn_alpha ? static_cast<double>(p.alpha[l][0]) : op.alpha;
}

BlockStats& block_record(PassResult& out, const LayerOp& op, Index l) {
  const auto k = static_cast<std::size_t>(op.block);
  if (out.blocks.size() < k) out.blocks.resize(k);
  BlockStats& b = out.blocks[k - 1];
  b.block = op.block;
  b.first_layer = op.stream + 1;
  b.last_layer = l;
  return b;
}

}  // namespace

template <class T>
bool skip_add_forward(Pass<T>& pass, Index l) {
  if (!dense_forward(pass, l)) return false;  // A[l] = F(s): the branch's last layer is linear
  const LayerOp& op = pass.s.op(l);
  const Mat<T>& s = pass.ws.A[op.stream];
  Mat<T>& a = pass.ws.A[l];
  const double alpha = block_alpha(pass.p, op, l);
  BlockStats& b = block_record(pass.out, op, l);
  if (pass.policy.record_stats) {
    b.stream_rms = std::sqrt(reduce::sum_squares(s.data(), s.size()) / static_cast<double>(s.size()));
    b.branch_ratio = alpha * alpha * average_channel_variance(a) / average_channel_variance(s);
  }
  if (op.learn_alpha) pass.ws.branch_out[l] = a;
  a = s + static_cast<T>(alpha) * a;
  if (!a.allFinite()) {
    pass.out.overflow_layer = l;
    return false;
  }
  if (op.norm != NormKind::none) norm_output_forward(pass, l);  // post-norm: s' = N(s + alpha F(s))
  return true;
}

template <class T>
bool branch_in_forward(Pass<T>& pass, Index l) {
  return pass.s.op(l).norm == NormKind::none ? dense_forward(pass, l) : norm_input_forward(pass, l);
}

template <class T>
bool skip_add_backward(Pass<T>& pass, Index l) {
  const LayerOp& op = pass.s.op(l);
  Workspace<T>& ws = pass.ws;
  if (op.norm != NormKind::none) norm_output_backward(pass, l);  // d (s + alpha F(s)), at pass.scale
  auto g = as_matrix(ws.grad_a, ws.batch, op.width);
  ws.skip_grad = g;  // d loss / d s along the identity path: d loss / d s' itself
  pass.skip_scale = pass.scale;
  pass.in_branch = true;
  const double alpha = block_alpha(pass.p, op, l);
  if (pass.policy.analyze()) {  // exact at any alpha: |alpha| joins the carried log10 scale
    pass.scale += std::log10(std::abs(alpha));
    if (alpha < 0) g = -g;
  } else {
    if (op.learn_alpha) {  // d loss / d alpha = <d s', F(s)>, summed in double in a fixed order
      const T *d = g.data(), *f = ws.branch_out[l].data();
      pass.policy.grads->alpha[l][0] = static_cast<T>(
          reduce::sum_of_terms(g.size(), [d, f](Index i) { return static_cast<double>(d[i]) * static_cast<double>(f[i]); }));
    }
    g *= static_cast<T>(alpha);
  }
  return dense_backward(pass, l);
}

// analyze: the branch's d s is at pass.scale, the identity path's at skip_scale, and they may be
// hundreds of decades apart at depth. Each is multiplied by 10^(its scale - the larger scale) in
// double (a factor <= 1: the smaller one may underflow, where it is below the other's rounding),
// added, and the sum renormalised, its norm carried in the scale as every layer does.
template <class T>
bool branch_in_backward(Pass<T>& pass, Index l) {
  const bool pre_norm = pass.s.op(l).norm != NormKind::none;  // the branch's own path ends at N(s)
  if (!(pre_norm ? norm_input_backward(pass, l) : dense_backward(pass, l))) return false;
  pass.in_branch = false;
  Workspace<T>& ws = pass.ws;
  const Index size = ws.skip_grad.size();
  T* g = ws.grad_a.data();
  const T* skip = ws.skip_grad.data();
  BlockStats& b = pass.out.blocks[static_cast<std::size_t>(pass.s.op(l).block - 1)];
  if (!pass.policy.analyze()) {
    for (Index i = 0; i < size; ++i) g[i] += skip[i];
    b.grad_stream_log10 = 0.5 * std::log10(reduce::sum_squares(g, size));
    return true;
  }
  const double top = std::max(pass.scale, pass.skip_scale);
  const double f_branch = std::pow(10.0, pass.scale - top), f_skip = std::pow(10.0, pass.skip_scale - top);
  // The sum is formed twice, in double, for its norm and then to store it divided by the norm:
  // so it is rounded to T once, at unit scale. Storing it in T first could flush a sum of two
  // tiny terms to zero in f32 (an O(B n) pass, small next to the block's matrix products).
  double sumsq = 0;
  for (Index i = 0; i < size; ++i) {
    const double v = f_branch * static_cast<double>(g[i]) + f_skip * static_cast<double>(skip[i]);
    sumsq += v * v;
  }
  if (!std::isfinite(sumsq)) {
    pass.out.overflow_layer = l;
    return false;
  }
  if (sumsq == 0) {  // the two paths cancel exactly (or both are 0): nothing flows below
    pass.out.zero_grad_layer = l;
    return false;
  }
  const double norm = std::sqrt(sumsq);
  for (Index i = 0; i < size; ++i)
    g[i] = static_cast<T>((f_branch * static_cast<double>(g[i]) + f_skip * static_cast<double>(skip[i])) / norm);
  pass.scale = top + std::log10(norm);
  b.grad_stream_log10 = pass.scale;
  return true;
}

template <class T>
void branch_in_jacobian(JacobianWalk<T>& walk, Index l) {
  walk.stream_J = walk.J;
  walk.stream_log2_scale = walk.log2_scale;
  walk.stream_log10_scale = walk.log10_scale;
  if (walk.s.op(l).norm != NormKind::none) norm_input_jacobian(walk, l);  // pre-norm: J of u = g N(s) + beta
  dense_jacobian(walk, l);
}

// The two terms may be hundreds of decades apart (as in branch_in_backward): they are added at
// the larger one's scale, each multiplied by 10^(its scale - the larger) <= 1. The sum is then
// stated at the branch's log10 scale (shared by the samples) with the sample's own power of 2 and
// a factor in [1, 2), so no factor above 2 is ever applied.
template <class T>
void skip_add_jacobian(JacobianWalk<T>& walk, Index l) {
  dense_jacobian(walk, l);  // walk.next = d F / d x at the branch's scale
  const double alpha = block_alpha(walk.p, walk.s.op(l), l), log10_2 = std::log10(2.0);
  for (std::size_t k = 0; k < walk.J.size(); ++k) {
    // log10 of (the branch's scale / the stream's), for sample k
    const double d = (walk.log2_scale[k] - walk.stream_log2_scale[k]) * log10_2 +
                     (walk.log10_scale - walk.stream_log10_scale);
    Mat<double>& out = walk.next[k];
    if (d >= 0) {
      out = alpha * out + std::pow(10.0, -d) * walk.stream_J[k];
    } else {  // at the stream's scale, which is 10^(-d) times the branch's: 2^e x f, f in [1, 2)
      out = (alpha * std::pow(10.0, d)) * out + walk.stream_J[k];
      const double x = -d / log10_2;
      const double e = std::floor(x);
      out *= std::exp2(x - e);
      walk.log2_scale[k] += static_cast<int>(e);
    }
  }
  if (walk.s.op(l).norm != NormKind::none) norm_output_jacobian(walk, l);  // post-norm: s' = N(s + alpha F(s))
}

#define GF_INSTANTIATE(T)                                    \
  template bool skip_add_forward<T>(Pass<T>&, Index);        \
  template bool branch_in_forward<T>(Pass<T>&, Index);       \
  template bool skip_add_backward<T>(Pass<T>&, Index);       \
  template bool branch_in_backward<T>(Pass<T>&, Index);      \
  template void branch_in_jacobian<T>(JacobianWalk<T>&, Index); \
  template void skip_add_jacobian<T>(JacobianWalk<T>&, Index);
GF_INSTANTIATE(float)
GF_INSTANTIATE(double)
#undef GF_INSTANTIATE

}  // namespace gf
