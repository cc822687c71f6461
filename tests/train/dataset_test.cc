// Built-in datasets (reproducible by seed, the geometry they promise), permutations and the
// mini-batch order, feature scaling, and the CSV reader with its errors.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>

#include "base/errors.h"
#include "train/dataset_builtin.h"
#include "train/dataset_csv.h"
#include "train/shuffle.h"
#include "process.h"
#include "usage_error.h"

using namespace gf;
using gf::test::error_of;

namespace {

BuiltinDataSpec spec(const char* name, std::uint64_t seed = 0) {
  BuiltinDataSpec s;
  s.name = name;
  s.n_train = 300;
  s.n_test = 90;
  s.seed = seed;
  return s;
}

bool same(const Dataset& a, const Dataset& b) {
  return a.x_train == b.x_train && a.x_test == b.x_test && a.y_train == b.y_train && a.y_test == b.y_test;
}

std::string csv_error(const std::string& text, CsvDataSpec s = {}) {
  if (s.path.empty()) s.path = "data.csv";
  const std::string e = error_of([&] { parse_csv_dataset(text, s); });
  return e.empty() ? "(no error)" : e;
}

}  // namespace

TEST_CASE("built-in datasets are a pure function of their parameters and --data-seed") {
  for (const BuiltinData& b : builtin_datasets()) {
    CAPTURE(b.name);
    const Dataset a = make_builtin_dataset(spec(b.name.data(), 4)), again = make_builtin_dataset(spec(b.name.data(), 4));
    const Dataset other = make_builtin_dataset(spec(b.name.data(), 5));
    CHECK(same(a, again));
    CHECK(a.x_train != other.x_train);
    CHECK(a.n_train() == 300);
    CHECK(a.n_test() == 90);
    CHECK(a.features == b.default_input_dim);
    CHECK(a.x_train.allFinite());
    // More test samples leave the training set alone.
    BuiltinDataSpec more = spec(b.name.data(), 4);
    more.n_test = 500;
    CHECK(make_builtin_dataset(more).x_train == a.x_train);
  }
}

TEST_CASE("spirals: sample i of class i % K sits at radius t and angle 2 pi k / K + 1.5 pi t") {
  BuiltinDataSpec s = spec("spirals");
  s.classes = 4;
  s.noise = 0.0;
  const Dataset d = make_builtin_dataset(s);
  for (Index i = 0; i < d.n_train(); ++i) {
    const double x = d.x_train(i, 0), y = d.x_train(i, 1), r = std::hypot(x, y);
    CHECK(d.y_train[i] == static_cast<std::uint32_t>(i % 4));
    REQUIRE(r < 1.0);
    const double expected = 2 * M_PI * static_cast<double>(d.y_train[i]) / 4 + 1.5 * M_PI * r;
    CHECK(std::abs(std::remainder(std::atan2(y, x) - expected, 2 * M_PI)) < 1e-5);
  }
  // With noise the angles scatter around the arm.
  s.noise = 0.2;
  const Dataset noisy = make_builtin_dataset(s);
  double sum2 = 0;
  for (Index i = 0; i < noisy.n_train(); ++i) {
    const double r = noisy.x_train.row(i).norm();
    const double off = std::remainder(std::atan2(noisy.x_train(i, 1), noisy.x_train(i, 0)) -
                                          2 * M_PI * noisy.y_train[i] / 4 - 1.5 * M_PI * r, 2 * M_PI);
    sum2 += off * off;
  }
  CHECK(std::sqrt(sum2 / 300) == doctest::Approx(0.2).epsilon(0.15));
}

TEST_CASE("blobs: without noise every sample is its class centre; with noise the spread is --noise") {
  BuiltinDataSpec s = spec("blobs");
  s.input_dim = 3;
  s.noise = 0.0;
  const Dataset d = make_builtin_dataset(s);
  CHECK(d.features == 3);
  for (Index i = 3; i < d.n_train(); ++i) CHECK(d.x_train.row(i) == d.x_train.row(i % 3));
  s.noise = 0.5;
  const Dataset n = make_builtin_dataset(s);
  const Eigen::MatrixXd off = n.x_train.bottomRows(297) - d.x_train.bottomRows(297);
  CHECK(std::sqrt(off.squaredNorm() / static_cast<double>(off.size())) == doctest::Approx(0.5).epsilon(0.1));
}

TEST_CASE("teacher: labels depend on the teacher's depth, and every class is used") {
  BuiltinDataSpec s = spec("teacher");
  const Dataset a = make_builtin_dataset(s);
  CHECK(a.features == 10);
  for (Index count : class_counts(a.y_train, a.classes)) CHECK(count > 20);
  s.teacher_depth = 4;
  const Dataset deeper = make_builtin_dataset(s);
  CHECK(deeper.x_train == a.x_train);  // same inputs
  CHECK(deeper.y_train != a.y_train);  // another teacher
}

TEST_CASE("built-in dataset parameters that do not fit are usage errors") {
  BuiltinDataSpec s = spec("spirals");
  s.input_dim = 3;
  CHECK_THROWS_WITH_AS(make_builtin_dataset(s), doctest::Contains("--input-dim 3: the spirals dataset has 2 features"),
                       UsageError);
  s = spec("teacher");
  s.noise = 0.1;
  CHECK_THROWS_AS(make_builtin_dataset(s), UsageError);
}

TEST_CASE("random_permutation and BatchOrder: permutations, reproducible, one pass per epoch") {
  const auto p = random_permutation({7, Stream::batch_order, 0}, 1000);
  CHECK(std::set<std::uint32_t>(p.begin(), p.end()).size() == 1000);
  CHECK(p == random_permutation({7, Stream::batch_order, 0}, 1000));
  CHECK(p != random_permutation({7, Stream::batch_order, 1}, 1000));
  CHECK(p != random_permutation({8, Stream::batch_order, 0}, 1000));

  BatchOrder order(3, 10, 4), same_order(3, 10, 4);
  std::vector<std::uint32_t> seen;
  for (int b = 0; b < 5; ++b) {  // 20 samples: exactly two epochs
    const std::uint32_t* rows = order.next();
    const std::uint32_t* rows2 = same_order.next();
    for (int i = 0; i < 4; ++i) {
      CHECK(rows[i] == rows2[i]);
      seen.push_back(rows[i]);
    }
  }
  for (int e = 0; e < 2; ++e) {
    const std::set<std::uint32_t> epoch(seen.begin() + 10 * e, seen.begin() + 10 * (e + 1));
    CHECK(epoch.size() == 10);
  }
  CHECK(!std::equal(seen.begin(), seen.begin() + 10, seen.begin() + 10));  // a new order each epoch
}

TEST_CASE("feature scaling uses the training set's statistics") {
  Dataset d = make_builtin_dataset(spec("blobs"));
  Dataset pos = d, sym = d, std_ = d;
  scale_features(pos, FeatureScaling::positive);
  scale_features(sym, FeatureScaling::symmetric);
  scale_features(std_, FeatureScaling::standardize);
  for (Index j = 0; j < d.features; ++j) {
    CHECK(pos.x_train.col(j).minCoeff() == doctest::Approx(0));
    CHECK(pos.x_train.col(j).maxCoeff() == doctest::Approx(1));
    CHECK(sym.x_train.col(j).minCoeff() == doctest::Approx(-1));
    CHECK(sym.x_train.col(j).maxCoeff() == doctest::Approx(1));
    CHECK(std_.x_train.col(j).mean() == doctest::Approx(0).epsilon(1e-12));
    CHECK(std::sqrt(std_.x_train.col(j).array().square().mean()) == doctest::Approx(1));
    // The test set gets the same affine map.
    const double a = (pos.x_test(0, j) - pos.x_test(1, j)) / (d.x_test(0, j) - d.x_test(1, j));
    const double a_train = 1 / (d.x_train.col(j).maxCoeff() - d.x_train.col(j).minCoeff());
    CHECK(a == doctest::Approx(a_train));
  }
}

TEST_CASE("CSV: features, string and numeric labels, quotes, label column by name or number") {
  const std::string text =
      "\xEF\xBB\xBF" "sepal,petal,\"kind, of\"\r\n"
      "1.5,2,setosa\r\n"
      "\n"
      " -3e1 , +4, \"virginica\"\r\n"
      "5,6,setosa\r\n"
      "7,8,\"ver\"\"sicolor\"\r\n";
  CsvDataSpec s;
  s.path = "iris.csv";
  s.test_frac = 0;
  const Dataset d = parse_csv_dataset(text, s);
  CHECK(d.features == 2);
  CHECK(d.classes == 3);
  CHECK(d.feature_names == std::vector<std::string>{"sepal", "petal"});
  CHECK(d.class_names == std::vector<std::string>{"setosa", "ver\"sicolor", "virginica"});
  REQUIRE(d.n_train() == 4);
  // Rows are shuffled; find each by its first feature.
  std::map<double, std::pair<double, std::uint32_t>> rows;
  for (Index i = 0; i < 4; ++i) rows[d.x_train(i, 0)] = {d.x_train(i, 1), d.y_train[i]};
  CHECK(rows.at(1.5) == std::pair<double, std::uint32_t>{2, 0});
  CHECK(rows.at(-30) == std::pair<double, std::uint32_t>{4, 2});
  CHECK(rows.at(7) == std::pair<double, std::uint32_t>{8, 1});

  // Label column by number (first) and from the end; numeric labels sort as numbers.
  s.label_col = "1";
  const Dataset by_number = parse_csv_dataset("y,a\n10,1\n9,2\n10,3\n", s);
  CHECK(by_number.class_names == std::vector<std::string>{"9", "10"});
  s.label_col = "-2";
  CHECK(parse_csv_dataset("y,a\n10,1\n9,2\n10,3\n", s).class_names == by_number.class_names);
  s.label_col = "y";
  CHECK(parse_csv_dataset("y,a\n10,1\n9,2\n10,3\n", s).class_names == by_number.class_names);
}

TEST_CASE("CSV: the held-out split is random, reproducible by seed, and loses no row") {
  std::string text = "a,b,y\n";
  for (int i = 0; i < 50; ++i) text += std::to_string(i) + "," + std::to_string(2 * i) + "," + (i % 2 ? "odd" : "even") + "\n";
  CsvDataSpec s;
  s.test_frac = 0.2;
  const Dataset d = parse_csv_dataset(text, s), again = parse_csv_dataset(text, s);
  s.seed = 1;
  const Dataset other = parse_csv_dataset(text, s);
  CHECK(d.n_test() == 10);
  CHECK(d.n_train() == 40);
  CHECK(same(d, again));
  CHECK(d.x_test != other.x_test);
  std::set<double> all;
  for (Index i = 0; i < 40; ++i) all.insert(d.x_train(i, 0));
  for (Index i = 0; i < 10; ++i) all.insert(d.x_test(i, 0));
  CHECK(all.size() == 50);
  for (Index i = 0; i < 40; ++i) {
    CHECK(d.x_train(i, 1) == 2 * d.x_train(i, 0));  // rows stay whole
    CHECK(d.y_train[i] == (static_cast<int>(d.x_train(i, 0)) % 2 ? 1u : 0u));  // "even" < "odd"
  }
}

TEST_CASE("CSV errors name the file, the line and the column") {
  CHECK(csv_error("") == "--data data.csv: the file is empty; expected a header line of column names, then one row per sample");
  CHECK(csv_error("\n  \n") == "--data data.csv: the file is empty; expected a header line of column names, then one row per sample");
  CHECK(csv_error("a,b,y\n") == "--data data.csv: no data rows after the header");
  CHECK(csv_error("a,b,y\n1,2,x\n3,4\n") == "--data data.csv: line 3: 2 columns, but the header has 3");
  CHECK(csv_error("a,b,y\n1,2,x\n3,4,y,5\n") == "--data data.csv: line 3: 4 columns, but the header has 3");
  CHECK(csv_error("a,b,y\n1,2,x\n\n3,four,z\n") ==
        "--data data.csv: line 4, column 2 ('b'): 'four' is not a number; feature columns must be numeric (is the "
        "label column 'y' the right one? see --label-col)");
  CHECK(csv_error("a,b,y\n1,,x\n") == "--data data.csv: line 2, column 2 ('b'): empty cell; every cell needs a value");
  CHECK(csv_error("a,b,y\n1,nan,x\n3,4,y\n") == "--data data.csv: line 2, column 2 ('b'): 'nan' is not a finite number");
  CHECK(csv_error("a,b,y\n1,2,x\n3,4,x\n") ==
        "--data data.csv: the label column 'y' (column 3) holds one class only ('x'); a classifier needs at least two");
  CHECK(csv_error("a,\"b,y\n1,2,x\n") ==
        "--data data.csv: line 1: column 2: unterminated quote (a quoted field must end on its line)");
  CHECK(csv_error("a;b;y\n1;2;x\n") ==
        "--data data.csv: line 1: the header has one column; expected feature columns and a label column separated "
        "by commas (this file seems to use ';' or tabs)");
  CsvDataSpec s;
  s.path = "data.csv";
  s.label_col = "specis";
  CHECK(csv_error("a,species\n1,x\n2,y\n", s) ==
        "--label-col: no column 'specis' in data.csv (did you mean 'species'?); its columns are a, species");
  s.label_col = "3";
  CHECK(csv_error("a,species\n1,x\n2,y\n", s) ==
        "--label-col 3: data.csv has 2 columns; give a number from 1 to 2 (or -1 for the last), or a name");
  s.label_col = "";
  s.test_frac = 0.9;
  CHECK(csv_error("a,y\n1,x\n2,y\n", s) == "--test-frac 0.9: data.csv has 2 rows, which leaves none for training");
}

TEST_CASE("CSV files that cannot be read are usage errors naming the path") {
  CHECK_THROWS_WITH_AS(read_csv_dataset({"/nonexistent/x.csv", "", 0.2, 0}),
                       "--data: cannot read '/nonexistent/x.csv': No such file or directory", UsageError);
  CHECK_THROWS_WITH_AS(read_csv_dataset({"/tmp", "", 0.2, 0}), "--data: '/tmp' is a directory; give a CSV file",
                       UsageError);
}

TEST_CASE("a CSV dataset's bytes_fnv1a64 is FNV-1a 64 of every byte parsed: byte-order mark and line ends too") {
  auto fnv = [](const std::string& bytes) {  // written out here, not base/fnv1a.h
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char ch : bytes) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
    return h;
  };
  CsvDataSpec s;
  s.path = "data.csv";
  const std::string plain = "a,y\n1,x\n2,y\n", bom = "\xEF\xBB\xBF" + plain, crlf = "a,y\r\n1,x\r\n2,y\r\n";
  CHECK(parse_csv_dataset(plain, s).bytes_fnv1a64 == fnv(plain));
  CHECK(parse_csv_dataset(bom, s).bytes_fnv1a64 == fnv(bom));  // the same rows, other bytes: another hash
  CHECK(parse_csv_dataset(crlf, s).bytes_fnv1a64 == fnv(crlf));
  CHECK(fnv(plain) != fnv(bom));
  // From a file: the bytes read, once.
  const std::string dir = test::temp_dir();
  test::write_file(dir + "/d.csv", bom);
  s.path = dir + "/d.csv";
  CHECK(read_csv_dataset(s).bytes_fnv1a64 == fnv(test::read_file(s.path)));
  CHECK(make_builtin_dataset(spec("blobs")).bytes_fnv1a64 == 0);
}
