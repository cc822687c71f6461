// gradflow summarize on hand-made records, whose statistics are worked out here by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <fmt/format.h>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "process.h"
#include "xml_check.h"

using namespace gf::test;
using json = nlohmann::json;

namespace {

// A record as sweep writes it, reduced to what summarize reads.
std::string record(const std::string& id, const std::string& act, int depth, int seed, const json& metric,
                   const std::string& init = "auto") {
  json rec = {{"schema_version", 1}, {"run_id", id}};
  rec["config"] = {{"activation", act}, {"depth", depth}, {"width", 8}, {"seed", seed}, {"init", init}};
  rec["resolved_init"] = "xavier_normal";
  rec["summary"] = {{"grad_first_last_log10", metric}, {"loss", 2.0}};
  return rec.dump() + "\n";
}

// tanh/5: 1, 2, 3 -> mean 2, std 1 | tanh/10: 4, 8 -> mean 6, std sqrt(8) | relu/5: 10 and an
// overflowed run (null) -> n 1, mean 10 | relu/10: -1, -2, -6 -> mean -3, std sqrt(7).
// Depth 10 comes first in the file: rows must still sort numerically.
std::string hand_made() {
  return record("00000000000000a1", "tanh", 10, 0, 4) + record("00000000000000a2", "tanh", 10, 1, 8) +
         record("00000000000000a3", "tanh", 5, 0, 1) + record("00000000000000a4", "tanh", 5, 1, 2) +
         record("00000000000000a5", "tanh", 5, 2, 3) + record("00000000000000a6", "relu", 5, 0, 10) +
         record("00000000000000a7", "relu", 5, 1, nullptr) + record("00000000000000a8", "relu", 10, 0, -1) +
         record("00000000000000a9", "relu", 10, 1, -2) + record("00000000000000b0", "relu", 10, 2, -6);
}

// The mean of value(record) over a sweep's JSONL records at `depth`, computed here.
double mean_at_depth(const std::string& jsonl, int depth, const std::function<double(const json&)>& value) {
  double sum = 0;
  int n = 0;
  std::istringstream in(jsonl);
  for (std::string line; std::getline(in, line);) {
    const json rec = json::parse(line);
    if (rec["config"]["depth"] != depth) continue;
    sum += value(rec);
    ++n;
  }
  return sum / n;
}

}  // namespace

TEST_CASE("summarize: n, mean, std, min, max per group, against hand-computed values") {
  const std::string dir = temp_dir(), f = dir + "/runs.jsonl";
  write_file(f, hand_made());
  const ProcessResult r = run_gradflow({"summarize", f, "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK(doc["records"] == 10);
  CHECK(doc["by"] == json({"activation", "depth"}));  // what varies, seed aside
  const json& g = doc["groups"];
  REQUIRE(g.size() == 4);
  CHECK(g[0]["key"] == json({{"activation", "tanh"}, {"depth", 5}}));
  CHECK(g[0]["n"] == 3);
  CHECK(g[0]["mean"] == 2.0);
  CHECK(g[0]["std"].get<double>() == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(g[0]["min"] == 1.0);
  CHECK(g[0]["max"] == 3.0);
  CHECK(g[1]["key"] == json({{"activation", "tanh"}, {"depth", 10}}));
  CHECK(g[1]["mean"] == 6.0);
  CHECK(g[1]["std"].get<double>() == doctest::Approx(std::sqrt(8.0)).epsilon(1e-15));
  CHECK(g[2]["key"] == json({{"activation", "relu"}, {"depth", 5}}));
  CHECK(g[2]["n"] == 1);
  CHECK(g[2]["nonfinite"] == 1);
  CHECK(g[2]["mean"] == 10.0);
  CHECK(g[2]["std"].is_null());
  CHECK(g[3]["mean"] == -3.0);
  CHECK(g[3]["std"].get<double>() == doctest::Approx(std::sqrt(7.0)).epsilon(1e-15));
  CHECK(g[3]["min"] == -6.0);

  // --by one key pools the rest; the table says so in its title and shows the non-finite count.
  const ProcessResult t = run_gradflow({"summarize", f, "--by", "activation"});
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.find("grad_first_last_log10, by activation (10 records from 1 file)") == 0);
  // (1+2+3+4+8)/5 = 3.6, std 2.702, se 2.702/sqrt(5) = 1.208
  CHECK(t.out.find("\ntanh        5   3.6  2.702  1.208    1    8           0\n") != std::string::npos);
  CHECK(t.out.find("non-finite") != std::string::npos);
  // CSV has full precision.
  const ProcessResult c = run_gradflow({"summarize", f, "--by", "depth", "--format", "csv"});
  // depth 5: 1, 2, 3, 10 and a null -> mean 4, std sqrt(50/3)
  CHECK(c.out.rfind("depth,metric,n,nonfinite,mean,std,se,min,max\n5,grad_first_last_log10,4,1,4,", 0) == 0);
  const std::string std5 = c.out.substr(c.out.find(",4,1,4,") + 7);
  CHECK(std::stod(std5) == doctest::Approx(std::sqrt(50.0 / 3.0)).epsilon(1e-14));
  const std::string se5 = std5.substr(std5.find(',') + 1);
  CHECK(std::stod(se5) == doctest::Approx(std::sqrt(50.0 / 3.0 / 4.0)).epsilon(1e-14));
  CHECK(g[0]["se"].get<double>() == doctest::Approx(1.0 / std::sqrt(3.0)).epsilon(1e-15));
}

TEST_CASE("summarize --pivot: rows one key, columns the other, cells the mean") {
  const std::string dir = temp_dir(), f = dir + "/runs.jsonl";
  write_file(f, hand_made());
  const ProcessResult csv = run_gradflow({"summarize", f, "--pivot", "depth,activation", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out == "depth,tanh,relu\n5,2,10\n10,6,-3\n");
  const ProcessResult t = run_gradflow({"summarize", f, "--pivot", "activation,depth"});
  REQUIRE(t.exit_code == 0);
  CHECK(t.out ==
        "mean grad_first_last_log10: activation (rows) x depth (columns), 2 to 3 records a cell, "
        "averaged over seed (10 records from 1 file)\n"
        "activation    5  10\n"
        "tanh          2   6\n"
        "relu        10*  -3\n"
        "* some runs of this cell have no finite value (overflow): the mean is over the others; null: none has\n");
  const json j = json::parse(run_gradflow({"summarize", f, "--pivot", "depth,activation", "--format", "json"}).out);
  CHECK(j["pivot"]["rows"] == json({{"key", "depth"}, {"values", {5, 10}}}));
  CHECK(j["pivot"]["columns"]["values"] == json({"tanh", "relu"}));
  CHECK(j["pivot"]["mean"] == json({{2.0, 10.0}, {6.0, -3.0}}));
  CHECK(j["pivot"]["n"] == json({{3, 1}, {2, 3}}));
  CHECK(j["pivot"]["nonfinite"] == json({{0, 1}, {0, 0}}));
}

TEST_CASE("summarize: many files, duplicates once, conflicts and bad input are errors") {
  const std::string dir = temp_dir(), f = dir + "/runs.jsonl", g = dir + "/more.jsonl";
  write_file(f, hand_made());
  write_file(g, record("00000000000000a3", "tanh", 5, 0, 1) + record("00000000000000c1", "tanh", 5, 3, 6));
  const json doc = json::parse(run_gradflow({"summarize", f, g, "--where", "activation=tanh", "--where", "depth=5", "--format", "json"}).out);
  CHECK(doc["duplicates"] == 1);
  CHECK(doc["records"] == 4);
  CHECK(doc["groups"][0]["mean"] == 3.0);  // 1, 2, 3, 6

  write_file(g, record("00000000000000a3", "tanh", 5, 0, 1.5));
  const ProcessResult conflict = run_gradflow({"summarize", f, g});
  CHECK(conflict.exit_code == 2);
  CHECK(conflict.err.find("run 00000000000000a3 is in " + f + ":3 and in " + g +
                          ":1 with different results (summary.grad_first_last_log10: 1 vs 1.5)") != std::string::npos);

  write_file(g, record("00000000000000d1", "tanh", 5, 7, 1) + "{\"schema_version\":1,\"run_");
  const ProcessResult torn = run_gradflow({"summarize", g, "--format", "json"});
  CHECK(torn.exit_code == 0);
  CHECK(torn.err.find("warning: " + g + ":2: ignored a torn last line") != std::string::npos);
  CHECK(json::parse(torn.out)["records"] == 1);

  write_file(g, record("00000000000000d1", "tanh", 5, 7, 1) + "not json\n" + record("00000000000000d2", "tanh", 5, 8, 1));
  const ProcessResult bad = run_gradflow({"summarize", g});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find(g + ":2: not a record of gradflow sweep") != std::string::npos);

  write_file(g, "run_id,activation\nx,tanh\n");
  CHECK(run_gradflow({"summarize", g}).err.find("is CSV") != std::string::npos);
  CHECK(run_gradflow({"summarize", f, "--by", "dept"}).err.find("did you mean 'depth'") != std::string::npos);
  CHECK(run_gradflow({"summarize", f, "--pivot", "depth,depth"}).exit_code == 2);
  CHECK(run_gradflow({"summarize", f, "--pivot", "depth"}).err.find("--pivot: give two keys") != std::string::npos);
  CHECK(run_gradflow({"summarize", f, "--where", "activation=selu"}).err.find("no record matches") != std::string::npos);
  CHECK(run_gradflow({"summarize", dir + "/missing.jsonl"}).exit_code == 2);
}

TEST_CASE("summarize reads a real sweep from stdin") {
  const ProcessResult s = run_gradflow({"sweep", "-a", "sigmoid,relu", "-d", "3,6", "-w", "16", "-b", "8", "--seed", "0:2", "-q"});
  REQUIRE(s.exit_code == 0);
  ProcessOptions o;
  o.stdin_text = s.out;
  const ProcessResult p = run_gradflow({"summarize", "-", "--pivot", "depth,activation", "--format", "json"}, o);
  REQUIRE(p.exit_code == 0);
  const json j = json::parse(p.out);
  CHECK(j["pivot"]["n"] == json({{3, 3}, {3, 3}}));
  // Each cell is the mean of its three seeds' records, computed here from the records.
  double sum = 0;
  std::istringstream in(s.out);
  for (std::string line; std::getline(in, line);) {
    const json rec = json::parse(line);
    if (rec["config"]["activation"] == "sigmoid" && rec["config"]["depth"] == 6)
      sum += rec["summary"]["grad_first_last_log10"].get<double>();
  }
  CHECK(j["pivot"]["mean"][1][0].get<double>() == doctest::Approx(sum / 3).epsilon(1e-14));
}

TEST_CASE("summarize --plot: a heatmap of the pivot, one panel per --panels value") {
  const std::string dir = temp_dir(), f = dir + "/runs.jsonl";
  std::string text;
  int id = 0;
  for (const char* act : {"tanh", "relu"})
    for (int depth : {5, 10, 20})
      for (int seed : {0, 1}) text += record(fmt::format("{:016x}", ++id), act, depth, seed, depth * (seed + 1));
  write_file(f, text);
  const ProcessResult r = run_gradflow({"summarize", f, "--pivot", "depth,seed", "--panels", "activation", "--plot", dir + "/p.svg"});
  REQUIRE(r.exit_code == 0);
  const XmlResult svg = check_xml(read_file(dir + "/p.svg"));
  CHECK(svg.ok);
  CHECK(svg.count("text", "", "") > 0);
  const std::string doc = read_file(dir + "/p.svg");
  CHECK(doc.find("activation tanh") != std::string::npos);
  CHECK(doc.find("activation relu") != std::string::npos);
  CHECK(svg.count("rect") >= 2 * 3 * 2);  // a cell per (depth, seed) in each panel

  const ProcessResult bad = run_gradflow({"summarize", f, "--pivot", "depth,activation", "--plot", dir + "/q.svg"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--plot: 'activation' takes the value 'tanh', not a number") != std::string::npos);
  CHECK(!file_exists(dir + "/q.svg"));
  CHECK(run_gradflow({"summarize", f, "--plot", dir + "/q.svg"}).exit_code == 2);
  CHECK(run_gradflow({"summarize", f, "--pivot", "depth,seed", "--panels", "activation"}).exit_code == 2);
}

TEST_CASE("summarize --layers: per-layer metrics of sweep --layers records, by layer, against hand-computed values") {
  const std::string dir = temp_dir(), f = dir + "/layers.jsonl";
  // Two activations x three seeds x two layers; saturated_frac = (layer + seed) / 10 for tanh,
  // and a null (overflow) in relu's seed 2, layer 2.
  std::string text;
  int id = 0;
  for (const char* act : {"tanh", "relu"})
    for (int seed = 0; seed < 3; ++seed) {
      json rec = json::parse(record(fmt::format("{:016x}", ++id), act, 2, seed, 0.0));
      rec["layers"] = json::array();
      for (int l = 1; l <= 2; ++l) {
        json v = std::string(act) == "tanh" ? json((l + seed) / 10.0) : json(0.5 + 0.01 * seed);
        if (std::string(act) == "relu" && seed == 2 && l == 2) v = nullptr;
        rec["layers"].push_back({{"layer", l}, {"fan_in", 8}, {"width", 8}, {"saturated_frac", v}});
      }
      text += rec.dump() + "\n";
    }
  write_file(f, text);
  const ProcessResult r = run_gradflow({"summarize", f, "--layers", "--metric", "saturated_frac", "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK(doc["by"] == json({"activation", "layer"}));  // layer joins the keys that vary
  const json& g = doc["groups"];
  REQUIRE(g.size() == 4);
  CHECK(g[0]["key"] == json({{"activation", "tanh"}, {"layer", 1}}));
  CHECK(g[0]["mean"].get<double>() == doctest::Approx(0.2).epsilon(1e-15));  // 0.1, 0.2, 0.3
  CHECK(g[0]["std"].get<double>() == doctest::Approx(0.1).epsilon(1e-14));
  CHECK(g[0]["se"].get<double>() == doctest::Approx(0.1 / std::sqrt(3.0)).epsilon(1e-14));
  CHECK(g[1]["mean"].get<double>() == doctest::Approx(0.3).epsilon(1e-15));  // 0.2, 0.3, 0.4
  CHECK(g[3]["key"] == json({{"activation", "relu"}, {"layer", 2}}));
  CHECK(g[3]["n"] == 2);
  CHECK(g[3]["nonfinite"] == 1);
  CHECK(g[3]["mean"].get<double>() == doctest::Approx(0.505).epsilon(1e-15));
  // A pivot over layer, one format for the whole table.
  const ProcessResult p = run_gradflow({"summarize", f, "--layers", "--metric", "saturated_frac", "--pivot", "layer,activation"});
  REQUIRE(p.exit_code == 0);
  CHECK(p.out.find("(6 records, 12 layers from 1 file)") != std::string::npos);
  CHECK(p.out.find("\n    1  0.2000   0.5100\n") != std::string::npos);
  CHECK(p.out.find("\n    2  0.3000  0.5050*\n") != std::string::npos);
  // Without --layers the per-layer metric is refused with the way out; records without layers too.
  const ProcessResult no = run_gradflow({"summarize", f, "--metric", "saturated_frac"});
  CHECK(no.exit_code == 2);
  CHECK(no.err.find("saturated_frac is a per-layer metric: add --layers") != std::string::npos);
  write_file(dir + "/plain.jsonl", hand_made());
  CHECK(run_gradflow({"summarize", dir + "/plain.jsonl", "--layers"}).err.find("record the sweep with `gradflow sweep --layers`") !=
        std::string::npos);
}

TEST_CASE("a pivot table prints one number format in every cell") {
  const std::string dir = temp_dir(), f = dir + "/runs.jsonl";
  std::string text;
  int id = 0;
  const double values[] = {-12.0734, 0.5, 0.0003, 1.25};
  for (const char* act : {"tanh", "relu"})
    for (int depth : {5, 10}) {
      text += record(fmt::format("{:016x}", id + 1), act, depth, 0, values[id]);
      ++id;
    }
  write_file(f, text);
  const ProcessResult t = run_gradflow({"summarize", f, "--pivot", "depth,activation"});
  REQUIRE(t.exit_code == 0);
  // 4 significant digits for the largest magnitude (12.07): two decimals everywhere
  CHECK(t.out.find("\n    5  -12.07  0.00\n") != std::string::npos);
  CHECK(t.out.find("\n   10    0.50  1.25\n") != std::string::npos);
}

TEST_CASE("summarize --metric jac_...: --jacobian's figures of a real sweep, a group's mean from its records") {
  const ProcessResult s = run_gradflow(
      {"sweep", "-a", "tanh", "-d", "2,4", "-w", "12", "-b", "8", "--seed", "0:2", "--jacobian", "-q"});
  REQUIRE(s.exit_code == 0);
  ProcessOptions o;
  o.stdin_text = s.out;
  const ProcessResult p = run_gradflow({"summarize", "-", "--metric", "jac_s2_mean_log10", "--format", "json"}, o);
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  const json j = json::parse(p.out);
  REQUIRE(j["groups"].size() == 2);
  const double mean =
      mean_at_depth(s.out, 4, [](const json& rec) { return rec["jacobian"]["jac_s2_mean_log10"].get<double>(); });
  CHECK(j["groups"][1]["n"] == 3);
  CHECK(j["groups"][1]["mean"].get<double>() == doctest::Approx(mean).epsilon(1e-14));
  // One figure per run: --layers is refused with the reason.
  const ProcessResult l = run_gradflow({"summarize", "-", "--layers", "--metric", "jac_s2_mean"}, o);
  CHECK(l.exit_code == 2);
  CHECK(l.err.find("jac_s2_mean is a summary metric") != std::string::npos);
}

TEST_CASE("summarize --metric jac_..._from_l: a partial Jacobian's figure, a group's mean from its records") {
  const ProcessResult s = run_gradflow({"sweep", "-a", "tanh", "-d", "4,6", "-w", "12", "-b", "8", "--seed", "0:2",
                                        "--jacobian", "--jacobian-depths", "2", "-q"});
  REQUIRE(s.exit_code == 0);
  ProcessOptions o;
  o.stdin_text = s.out;
  const ProcessResult p = run_gradflow({"summarize", "-", "--metric", "jac_s2_var_rel_from_2", "--format", "json"}, o);
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  const json j = json::parse(p.out);
  REQUIRE(j["groups"].size() == 2);
  const double mean = mean_at_depth(s.out, 6, [](const json& rec) {
    REQUIRE(rec["jacobian_partials"][0]["layer"] == 2);
    return rec["jacobian_partials"][0]["jac_s2_var_rel"].get<double>();
  });
  CHECK(j["groups"][1]["n"] == 3);
  CHECK(j["groups"][1]["mean"].get<double>() == doctest::Approx(mean).epsilon(1e-14));
  // from_0 is J itself.
  const ProcessResult j0 = run_gradflow({"summarize", "-", "--metric", "jac_s2_var_rel_from_0", "--format", "json"}, o);
  const ProcessResult jj = run_gradflow({"summarize", "-", "--metric", "jac_s2_var_rel", "--format", "json"}, o);
  REQUIRE(j0.exit_code == 0);
  CHECK(json::parse(j0.out)["groups"][1]["mean"] == json::parse(jj.out)["groups"][1]["mean"]);
  // A depth the sweep did not measure: no values (n 0), not an error.
  const ProcessResult none = run_gradflow({"summarize", "-", "--metric", "jac_s2_var_rel_from_3", "--format", "json"}, o);
  REQUIRE(none.exit_code == 0);
  CHECK(json::parse(none.out)["groups"][1]["n"] == 0);
}
