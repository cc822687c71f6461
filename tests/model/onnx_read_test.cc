// parse_onnx on protobuf built here: initializers from each storage (f32, f64, typed or raw),
// and malformed input refused with the initializer or the fault named, never a crash.
#include <cmath>
#include <cstring>
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include "model/onnx_read.h"
#include "usage_error.h"

using namespace gf;
using gf::test::error_of;

namespace {

std::string model_with(const onnx::TensorProto& t) {
  onnx::ModelProto m;
  onnx::GraphProto* g = m.mutable_graph();
  *g->add_initializer() = t;
  onnx::NodeProto* n = g->add_node();
  n->set_op_type("Relu");
  n->add_input("x");
  n->add_output("y");
  g->add_input()->set_name("x");
  g->add_output()->set_name("y");
  return m.SerializeAsString();
}

std::string refusal(const std::string& bytes) {
  return error_of([&] { parse_onnx(bytes, "m.onnx"); });
}

}  // namespace

TEST_CASE("parse_onnx: f32 and f64 initializers from typed fields and raw_data") {
  onnx::TensorProto t;
  t.set_name("w");
  t.add_dims(2);
  t.add_dims(2);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (float v : {1.5f, -2.f, 0.25f, 3.f}) t.add_float_data(v);
  OnnxGraph g = parse_onnx(model_with(t), "m.onnx");
  CHECK(g.initializers.at("w").values == std::vector<double>{1.5, -2, 0.25, 3});
  CHECK(g.inputs.size() == 1);
  t.clear_float_data();
  t.set_data_type(onnx::TensorProto::DOUBLE);
  const double d[4] = {0.1, 0.2, 0.3, 0.4};
  t.set_raw_data(std::string(reinterpret_cast<const char*>(d), sizeof d));
  g = parse_onnx(model_with(t), "m.onnx");
  CHECK(g.initializers.at("w").values == std::vector<double>{0.1, 0.2, 0.3, 0.4});
  t.set_raw_data(std::string(reinterpret_cast<const char*>(d), 3 * sizeof(double)));
  CHECK(refusal(model_with(t)) == "--model: 'm.onnx': initializer 'w' has shape [2,2] (4 elements) but 24 bytes of data");
}

TEST_CASE("parse_onnx: wrong sizes, absurd dims, other types, external data and garbage are refused") {
  onnx::TensorProto t;
  t.set_name("w");
  t.add_dims(2);
  t.add_dims(3);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int k = 0; k < 5; ++k) t.add_float_data(1.f);
  CHECK(refusal(model_with(t)).find("initializer 'w' has shape [2,3] (6 elements) but 5 values") != std::string::npos);
  t.set_dims(0, std::int64_t{1} << 40);
  t.set_dims(1, std::int64_t{1} << 40);
  CHECK(refusal(model_with(t)).find("more than 268435456 elements") != std::string::npos);
  t.set_dims(0, -3);
  CHECK(refusal(model_with(t)).find("negative dimension (-3)") != std::string::npos);
  t.set_dims(0, 2);
  t.set_dims(1, 3);
  t.set_data_type(onnx::TensorProto::FLOAT16);
  CHECK(refusal(model_with(t)).find("ONNX data type 10") != std::string::npos);
  t.set_data_type(onnx::TensorProto::FLOAT);
  t.set_data_location(onnx::TensorProto::EXTERNAL);
  CHECK(refusal(model_with(t)).find("external data file") != std::string::npos);
  t.clear_data_location();
  t.clear_float_data();
  for (float v : {1.0f, NAN, 2.0f, 3.0f, 4.0f, 5.0f}) t.add_float_data(v);
  CHECK(refusal(model_with(t)).find("initializer 'w' holds nan at element 1 of 6") != std::string::npos);
  t.set_float_data(1, -INFINITY);
  CHECK(refusal(model_with(t)).find("holds -inf at element 1 of 6") != std::string::npos);
  CHECK(refusal("\x0a\xff\xff\xff\x0f") == "--model: 'm.onnx': not an ONNX model (the protobuf is malformed or truncated)");
  CHECK(refusal("").find("no graph") != std::string::npos);
  const std::string whole = model_with(onnx::TensorProto{});
  for (std::size_t cut = 1; cut < whole.size(); ++cut) CHECK_NOTHROW(refusal(whole.substr(0, cut)));
}
