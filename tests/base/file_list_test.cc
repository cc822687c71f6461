// base/file_list.h: a list of files in one text, where names may hold commas, colons and
// brackets. Each rule on real files in a fresh directory.
#include "base/file_list.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "process.h"
#include "usage_error.h"

using namespace gf;
using gf::test::contains;
using gf::test::error_of;
using gf::test::temp_dir;
using gf::test::write_file;
using Files = std::vector<std::string>;

TEST_CASE("a text that names an existing file is that file: commas, colons and brackets included") {
  const std::string d = temp_dir();
  for (const char* name : {"my,model.onnx", "run]1.onnx", "a[2].onnx", "x:1:2.onnx", "c,,d.csv", ",lead.csv", "trail,"})
    write_file(d + "/" + name, "x");
  for (const std::string name : {"my,model.onnx", "run]1.onnx", "a[2].onnx", "x:1:2.onnx", "c,,d.csv", ",lead.csv", "trail,"}) {
    CAPTURE(name);
    CHECK(split_file_list("--model", d + "/" + name) == Files{d + "/" + name});
    CHECK(split_file_list("--model", name, d) == Files{name});  // relative to a directory: as written
  }
}

TEST_CASE("otherwise a comma separates files, and two commas are a comma of a name") {
  const std::string d = temp_dir();
  for (const char* name : {"a.csv", "b.csv", "my,model.onnx", "two,,commas"}) write_file(d + "/" + name, "x");
  CHECK(split_file_list("--data", d + "/a.csv," + d + "/b.csv") == Files{d + "/a.csv", d + "/b.csv"});
  CHECK(split_file_list("--data", "a.csv,b.csv", d) == Files{"a.csv", "b.csv"});
  CHECK(split_file_list("--model", "my,,model.onnx,a.csv", d) == Files{"my,model.onnx", "a.csv"});
  CHECK(split_file_list("--model", "a.csv,my,,model.onnx", d) == Files{"a.csv", "my,model.onnx"});
  CHECK(split_file_list("--model", "two,,,,commas,b.csv", d) == Files{"two,,commas", "b.csv"});
  // One file, escaped or not: a missing one is left to the reader, which names it.
  CHECK(split_file_list("--model", "none.onnx", d) == Files{"none.onnx"});
  CHECK(split_file_list("--model", "no,,ne.onnx", d) == Files{"no,ne.onnx"});
  // Colons and brackets are never special.
  write_file(d + "/x:1.onnx", "x");
  write_file(d + "/[y].onnx", "x");
  CHECK(split_file_list("--model", "x:1.onnx,[y].onnx", d) == Files{"x:1.onnx", "[y].onnx"});
}

TEST_CASE("join_file_list writes what split_file_list reads back") {
  const std::string d = temp_dir();
  const Files names = {"my,model.onnx", "b.csv", "x,,y", ",lead", "run]1:2.onnx"};
  for (const std::string& n : names) write_file(d + "/" + n, "x");
  CHECK(join_file_list({"a", "b"}) == "a,b");
  CHECK(join_file_list({"my,model.onnx"}) == "my,,model.onnx");
  for (std::size_t k = 0; k < names.size(); ++k) {
    CAPTURE(names[k]);
    CHECK(split_file_list("--model", join_file_list({names[k]}), d) == Files{names[k]});
    if (names[k] != ",lead") CHECK(split_file_list("--model", join_file_list({"b.csv", names[k]}), d) == Files{"b.csv", names[k]});
  }
  CHECK(split_file_list("--model", join_file_list({"my,model.onnx", "x,,y", "b.csv"}), d) ==
        Files{"my,model.onnx", "x,,y", "b.csv"});
}

TEST_CASE("ambiguous texts are refused, naming the flag, the text and how to write each meaning") {
  const std::string d = temp_dir();
  for (const char* name : {"a.onnx", "b.onnx", "a.onnx,b.onnx", "c,d", "c,,d", "e"}) write_file(d + "/" + name, "x");
  // A file, and a list of files that exist: which was meant?
  const std::string both = error_of([&] { split_file_list("--model", "a.onnx,b.onnx", d); });
  CHECK(contains(both, "--model: 'a.onnx,b.onnx' is ambiguous"));
  CHECK(contains(both, "'a.onnx', 'b.onnx'"));
  CHECK(contains(both, "'a.onnx,,b.onnx'"));  // the one file, its comma written twice
  CHECK(split_file_list("--model", "a.onnx,,b.onnx", d) == Files{"a.onnx,b.onnx"});  // as the message says
  CHECK(split_file_list("--model", "b.onnx,a.onnx", d) == Files{"b.onnx", "a.onnx"});  // another order
  // "c,,d" names a file, and read by rule 2 it is the file "c,d", which exists too.
  const std::string one_or_one = error_of([&] { split_file_list("--data", "c,,d", d); });
  CHECK(contains(one_or_one, "--data: 'c,,d' is ambiguous"));
  CHECK(contains(one_or_one, "no spelling names 'c,d' alone: rename one of the two"));  // reordering cannot help
  // Not ambiguous when the list reading names a file that is not there.
  write_file(d + "/f,g", "x");
  CHECK(split_file_list("--model", "f,g", d) == Files{"f,g"});

  // A list with an element that names no file: the comma of a name, most likely.
  const std::string missing = error_of([&] { split_file_list("--model", "e,none.onnx", d); });
  CHECK(contains(missing, "--model: no file 'e,none.onnx'"));
  CHECK(contains(missing, "'none.onnx' names none either"));
  CHECK(contains(missing, "written twice (my,,model.onnx is the file my,model.onnx)"));
  // Where elements joined again make a file, the message shows the list so written.
  write_file(d + "/my,model.onnx", "x");
  const std::string mend = error_of([&] { split_file_list("--model", "e,my,model.onnx,a.onnx", d); });
  CHECK(contains(mend, "'my' names none either"));
  CHECK(contains(mend, "written twice: 'e,my,,model.onnx,a.onnx' is 'e', 'my,model.onnx', 'a.onnx'"));
  CHECK(split_file_list("--model", "e,my,,model.onnx,a.onnx", d) == Files{"e", "my,model.onnx", "a.onnx"});
  // A split that joining greedily misses: "my" exists too, and taken alone first it leaves
  // "model.onnx,my", which names nothing; the search over join points finds 'my,model.onnx', 'my'.
  write_file(d + "/my", "x");
  const std::string search = error_of([&] { split_file_list("--model", "my,model.onnx,my", d); });
  CHECK(contains(search, "'model.onnx' names none either"));
  CHECK(contains(search, "written twice: 'my,,model.onnx,my' is 'my,model.onnx', 'my'"));
  CHECK(split_file_list("--model", "my,,model.onnx,my", d) == Files{"my,model.onnx", "my"});
  // The earlier split is kept where joining each element to the next ones works.
  CHECK(contains(error_of([&] { split_file_list("--model", "e,my,model.onnx,a.onnx", d); }),
                 "'e,my,,model.onnx,a.onnx' is 'e', 'my,model.onnx', 'a.onnx'"));
  // No split at all: no suggestion.
  CHECK(contains(error_of([&] { split_file_list("--model", "my,model.onnx,zz", d); }),
                 "written twice (my,,model.onnx is the file my,model.onnx)"));
  // Empty elements and odd runs of commas.
  for (const std::string bad : {"", ",", "e,", ",e", "e,,,e"}) {
    CAPTURE(bad);
    const std::string e = error_of([&] { split_file_list("--arch", bad, d); });
    CHECK(contains(e, "--arch: '" + bad + "'"));
  }
  CHECK(contains(error_of([&] { split_file_list("--arch", "e,,,e", d); }), "3 commas in a row"));
  // A file of that name is that file all the same (rule 1 first).
  write_file(d + "/e,,,e", "x");
  CHECK(split_file_list("--arch", "e,,,e", d) == Files{"e,,,e"});
}
