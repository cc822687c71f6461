#include "model/onnx_read.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <onnx/onnx_pb.h>
#include <sys/stat.h>

#include "base/errors.h"
#include "base/fnv1a.h"
#include "core/analysis.h"
#include "model/external_data.h"

namespace gf {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw UsageError(fmt::format("--model: '{}': {}", path, what));
}

// The product of dims, refused when a dim is negative or the product passes kMaxTensorElements
// (checked before multiplying, so it cannot overflow).
std::int64_t element_count(const std::vector<std::int64_t>& dims, const std::string& path, const std::string& name) {
  std::int64_t n = 1;
  for (std::int64_t d : dims) {
    if (d < 0) fail(path, fmt::format("initializer '{}' has a negative dimension ({})", name, d));
    if (d != 0 && n > kMaxTensorElements / d)
      fail(path, fmt::format("initializer '{}' has shape [{}], more than {} elements", name, fmt::join(dims, ","),
                             kMaxTensorElements));
    n *= d;
  }
  return n;
}

template <class T>
void from_raw(const std::string& raw, std::vector<double>& out) {
  const std::size_t n = raw.size() / sizeof(T);
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));  // ONNX stores little-endian, as x86 does
    out[i] = static_cast<double>(v);
  }
}

OnnxTensor read_tensor(const onnx::TensorProto& t, const std::string& path, ExternalData& external) {
  const std::string& name = t.name();
  OnnxTensor out;
  out.dims.assign(t.dims().begin(), t.dims().end());
  const std::int64_t n = element_count(out.dims, path, name);
  std::size_t width = 0;
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: width = 4; break;
    case onnx::TensorProto::DOUBLE: width = 8; break;
    case onnx::TensorProto::INT64: width = 8; break;
    default:
      fail(path, fmt::format("initializer '{}' has ONNX data type {}; gradflow reads float32 and float64 weights "
                             "(and int64 shapes)",
                             name, static_cast<int>(t.data_type())));
  }
  std::size_t stored = 0;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    ExternalDataRef ref;
    for (const onnx::StringStringEntryProto& e : t.external_data()) {
      if (e.key() == "location") ref.location = e.value();
      else if (e.key() == "offset") ref.offset = e.value();
      else if (e.key() == "length") ref.length = e.value();
    }
    const std::string raw = read_external_data(path, name, ref, static_cast<std::uint64_t>(n) * width, external);
    if (t.data_type() == onnx::TensorProto::FLOAT) from_raw<float>(raw, out.values);
    else if (t.data_type() == onnx::TensorProto::DOUBLE) from_raw<double>(raw, out.values);
    else from_raw<std::int64_t>(raw, out.values);
  } else if (t.has_raw_data()) {
    stored = t.raw_data().size() / width;
    if (t.raw_data().size() % width != 0 || stored != static_cast<std::size_t>(n))
      fail(path, fmt::format("initializer '{}' has shape [{}] ({} elements) but {} bytes of data", name,
                             fmt::join(out.dims, ","), n, t.raw_data().size()));
    if (t.data_type() == onnx::TensorProto::FLOAT) from_raw<float>(t.raw_data(), out.values);
    else if (t.data_type() == onnx::TensorProto::DOUBLE) from_raw<double>(t.raw_data(), out.values);
    else from_raw<std::int64_t>(t.raw_data(), out.values);
  } else {
    if (t.data_type() == onnx::TensorProto::FLOAT) {
      stored = static_cast<std::size_t>(t.float_data_size());
      out.values.assign(t.float_data().begin(), t.float_data().end());
    } else if (t.data_type() == onnx::TensorProto::DOUBLE) {
      stored = static_cast<std::size_t>(t.double_data_size());
      out.values.assign(t.double_data().begin(), t.double_data().end());
    } else {
      stored = static_cast<std::size_t>(t.int64_data_size());
      for (std::int64_t v : t.int64_data()) out.values.push_back(static_cast<double>(v));
    }
    if (stored != static_cast<std::size_t>(n))
      fail(path, fmt::format("initializer '{}' has shape [{}] ({} elements) but {} values", name,
                             fmt::join(out.dims, ","), n, stored));
  }
  // A NaN or infinite weight would pass for an overflow of the forward pass in every report.
  const auto bad = std::find_if(out.values.begin(), out.values.end(), [](double v) { return !std::isfinite(v); });
  if (bad != out.values.end())
    fail(path, fmt::format("initializer '{}' holds {} at element {} of {}; gradflow measures finite weights", name,
                           *bad, bad - out.values.begin(), out.values.size()));
  return out;
}

std::vector<std::int64_t> value_dims(const onnx::ValueInfoProto& v) {
  std::vector<std::int64_t> dims;
  if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return dims;
  for (const auto& d : v.type().tensor_type().shape().dim())
    dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : -1);
  return dims;
}

}  // namespace

OnnxGraph parse_onnx(std::string_view bytes, const std::string& path, const std::string& data_dir,
                     std::uint64_t external_limit) {
  if (bytes.size() > kMaxModelBytes)
    fail(path, fmt::format("{} bytes is more than gradflow reads ({} bytes)", bytes.size(), kMaxModelBytes));
  onnx::ModelProto model;
  // protobuf bounds every length by the buffer and nests at most 100 messages deep.
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail(path, "not an ONNX model (the protobuf is malformed or truncated)");
  if (!model.has_graph() || model.graph().node_size() == 0) fail(path, "the model has no graph, or an empty one");
  const onnx::GraphProto& g = model.graph();
  OnnxGraph out;
  out.bytes_fnv1a64 = fnv1a64(bytes);
  ExternalData external;
  external.model_dir = data_dir;
  external.limit = external_limit;
  external.hash.h = out.bytes_fnv1a64;  // FNV-1a's state is its value: the files' bytes go on after the model's
  for (const onnx::TensorProto& t : g.initializer()) {
    if (out.initializers.count(t.name())) fail(path, fmt::format("initializer '{}' is given twice", t.name()));
    out.initializers.emplace(t.name(), read_tensor(t, path, external));
  }
  if (g.sparse_initializer_size() > 0) fail(path, "sparse initializers are not supported");
  for (const onnx::ValueInfoProto& v : g.input())
    if (!out.initializers.count(v.name())) out.inputs.push_back({v.name(), value_dims(v)});
  for (const onnx::ValueInfoProto& v : g.output()) out.outputs.push_back(v.name());
  for (const onnx::NodeProto& n : g.node()) {
    OnnxNode node{n.name(), n.op_type(), {n.input().begin(), n.input().end()}, {n.output().begin(), n.output().end()}, {}};
    for (const onnx::AttributeProto& a : n.attribute()) {
      OnnxAttribute attr;
      if (a.has_f()) attr.f = a.f();
      if (a.has_i()) attr.i = a.i();
      if (a.has_s()) attr.s = a.s();
      attr.ints.assign(a.ints().begin(), a.ints().end());
      if (a.has_t()) attr.t = read_tensor(a.t(), path, external);
      node.attributes[a.name()] = std::move(attr);
    }
    out.nodes.push_back(std::move(node));
  }
  out.external_files = std::move(external.files);
  out.content_fnv1a64 = external.hash.h;
  return out;
}

OnnxGraph read_onnx_file(const std::string& path, std::uint64_t max_memory) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, fmt::format("cannot read it: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file; give an .onnx file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxModelBytes)
    fail(path, fmt::format("{} bytes is more than gradflow reads ({} bytes)", st.st_size, kMaxModelBytes));
  const auto size = static_cast<std::uint64_t>(st.st_size), budget = max_memory / kReadBytesPerByte;
  if (size > budget)
    fail(path, fmt::format("{} to run: about {} x its {} bytes (its bytes, protobuf's copy, the weights in f64 as "
                           "read and as layers, the engine's copy), more than --max-memory {}",
                           format_bytes(size * kReadBytesPerByte), kReadBytesPerByte, size, format_bytes(max_memory)));
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot read it: {}", std::strerror(errno)));
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(bytes.size())) fail(path, "the file changed while it was read");
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return parse_onnx(bytes, path, dir.empty() ? "." : dir, std::min(kMaxModelBytes, budget - size));
}

}  // namespace gf
