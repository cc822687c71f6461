#include "core/engine.h"

#include "base/interrupt.h"
#include "core/op_table.h"

namespace gf {

// The walks: each op's forward in order, each op's backward in reverse (op_table.h).
template <class T>
void forward_pass(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassPolicy<T>& policy,
                  PassResult& out) {
  const Index L = s.depth();
  out = PassResult{};
  out.layers.resize(static_cast<std::size_t>(L));
  for (Index l = 1; l <= L; ++l) {
    LayerStats& st = out.layers[static_cast<std::size_t>(l - 1)];
    st.layer = l;
    st.fan_in = s.width(l - 1);
    st.width = s.width(l);
  }
  Pass<T> pass{s, p, ws, policy, out};
  for (Index l = 1; l <= L + 1; ++l) {
    throw_if_interrupted();
    if (!op_kernels<T>(s.op(l).kind).forward(pass, l)) return;
  }
}

template <class T>
void backward_pass(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassPolicy<T>& policy,
                   PassResult& out) {
  const Index L = s.depth();
  if (out.overflow_layer != 0) return;
  if (GradientTap* tap = policy.tap) {
    tap->d_h.assign(static_cast<std::size_t>(L + 1), {});
    tap->d_W.assign(static_cast<std::size_t>(L + 1), {});
  }
  Pass<T> pass{s, p, ws, policy, out};
  for (Index l = L + 1; l >= 1; --l) {
    throw_if_interrupted();
    // An op stops the walk where nothing exact flows below it (out.zero_grad_layer,
    // inexact_layer: the layers below keep no gradient figures) or at a non-finite gradient.
    if (!op_kernels<T>(s.op(l).kind).backward(pass, l)) break;
  }
  if (!policy.analyze() || out.overflow_layer != 0) return;  // overflow: no relative figures
  const double last = out.layers.back().grad_weight_log10;
  for (LayerStats& st : out.layers) st.grad_weight_rel_log10 = st.grad_weight_log10 - last;
}

template <class T>
Index count_errors(const Workspace<T>& ws) {
  Index errors = 0;
  for (Index i = 0; i < ws.batch; ++i) {
    Index k = 0;
    ws.Z.row(i).maxCoeff(&k);
    errors += static_cast<std::uint32_t>(k) != ws.labels[static_cast<std::size_t>(i)];
  }
  return errors;
}

#define GF_INSTANTIATE(T)                                                                                      \
  template void forward_pass<T>(const NetworkSpec&, const Params<T>&, Workspace<T>&, const PassPolicy<T>&,     \
                                PassResult&);                                                                  \
  template void backward_pass<T>(const NetworkSpec&, const Params<T>&, Workspace<T>&, const PassPolicy<T>&,    \
                                 PassResult&);                                                                 \
  template Index count_errors<T>(const Workspace<T>&);
GF_INSTANTIATE(float)
GF_INSTANTIATE(double)
#undef GF_INSTANTIATE

}  // namespace gf
