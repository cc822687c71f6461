// The detailed table of a residual run: every recorded layer (the input projection included) and
// one row per block with the block's records as the JSON has them.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "core/analysis.h"
#include "residual_config.h"
#include "report/report_table.h"
#include "report/text_table.h"

using namespace gf;

TEST_CASE("residual table: the projection's extra layer and the block rows") {
  AnalysisConfig c = test::residual_config("tanh", 6, 3, 32);
  c.dtype = Dtype::f32;
  c.input_dim = 8;  // a projection: 7 layers recorded
  const AnalysisResult result = run_analysis(c);
  REQUIRE(result.runs[0].pass.layers.size() == 7);
  const std::string text = analysis_table(result, TableOptions{});
  CHECK(text.find("\n    7     32") != std::string::npos);  // the last layer is shown
  CHECK(text.find("depth 6 (2 residual blocks of 3, after an input projection: 7 layers), width 32") !=
        std::string::npos);
  CHECK(text.find("residual blocks") != std::string::npos);
  for (const BlockStats& b : result.runs[0].pass.blocks)
    CHECK(text.find(fmt::format("{}-{}", b.first_layer, b.last_layer)) != std::string::npos);
  CHECK(text.find(table_number(result.runs[0].pass.blocks[1].grad_stream_log10)) != std::string::npos);

  c.residual = 0;  // a plain stack has no block table
  CHECK(analysis_table(run_analysis(c), TableOptions{}).find("residual blocks") == std::string::npos);
}
