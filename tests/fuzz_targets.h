#pragma once
// The readers of outside input, as fuzz targets: a --config file (every command's options),
// a --data CSV file, the JSONL records of a sweep (read, grouped, pivoted), and an ONNX model
// (--model: read, mapped, and a small one run). Each takes any
// bytes and must either accept them or throw UsageError (caught here); anything else escapes,
// and the fuzzer (tests/fuzz/, libFuzzer) or the replay (fuzz_test.cc) reports it.
#include <string_view>

namespace gf::fuzz {

void config(std::string_view bytes);
void csv(std::string_view bytes);
void records(std::string_view bytes);
void onnx(std::string_view bytes);

}  // namespace gf::fuzz
