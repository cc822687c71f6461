// Robustness of the real binary, class by class (issue 12: nothing clobbered, nothing torn,
// nothing silently wrong). Every case is one line of a table: a shell command run by /bin/sh in a
// fresh copy of the fixtures below ($G is gradflow), the exit code it must end with, a pattern
// its stderr (and optionally its stdout) must contain, and what must hold for files afterwards.
// A new class of fault is a new line; a new file option is a new line of kFileOptions, and it is
// tried against every kind of output target.
//
// After every case, whatever it is: no temporary file is left behind, stderr never says
// "internal error", and the exit code is one gradflow documents (0, 1, 2, 130).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <fmt/format.h>
#include <regex>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "process.h"

using namespace gf::test;

namespace {

#ifdef GRADFLOW_SANITIZED
constexpr int kStopMs = 3000;  // ASan and UBSan slow every step; the bound is still checked
#else
constexpr int kStopMs = 1000;  // "stops within a second"
#endif

// Fixtures every case starts from, in its own directory. old.* are files that options replace
// through links; node.* are character devices like /dev/null (root only), fifo.* FIFOs.
const char* const kFixtures = R"SH(
set -e
printf 'old\n' > old.txt; printf 'old\n' > old.svg; chmod 640 old.txt
ln -s old.txt link.txt; ln -s old.svg link.svg
ln -s made.txt dangling.txt; ln -s made.svg dangling.svg
mkdir dir.txt dir.svg
mkfifo fifo.txt fifo.svg
if mknod node.txt c 1 3 2>/dev/null && mknod node.svg c 1 3 && printf x > node.txt; then touch node_ok; fi
rm -f node.txt.probe
$G sweep -a relu,tanh -d 2 -w 4 -b 2 --seed 0:2 -q -o records.jsonl
$G analyze -a relu -d 2 -w 4 -b 2 --format json -o base.json
head -c 60 records.jsonl > torn_tail.jsonl.part
{ cat records.jsonl; cat torn_tail.jsonl.part; } > torn.jsonl
{ cat records.jsonl; printf 'garbage'; } > garbage_tail.jsonl
{ head -n 1 records.jsonl; cat torn_tail.jsonl.part; printf '\n'; tail -n 1 records.jsonl; } > torn_middle.jsonl
printf '[1,2,3]' > array.jsonl
printf 'x,y,label\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n9,1,a\n2,3,b\n' > ok.csv
printf 'x,y\377,label\n1,2,a\376\n3,4,b\n5,6,a\376\n7,8,b\n9,1,a\376\n2,3,b\n' > utf8.csv
printf 'x,y,label\n1,2,a\n3,4\000zz,b\n5,6,a\n' > nul.csv
printf 'x,y,label\n1,2,a\n1e39,4,b\n5,6,a\n7,8,b\n' > f32.csv
printf 'x,y,label\n1,2,a\n1e999,4,b\n5,6,a\n' > range.csv
printf '{"depth": 1e999}' > c_1e999.json
printf '{"depth": 3, "depth": 4}' > c_twice.json
printf '{"depth": 0}' > c_depth0.json
printf '{"activation": ["relu", ""]}' > c_empty.json
printf '{"activation": "tanh", "depth": 3, "width": "[64,32,16]", "batch": 4}' > c_layers.json
printf '{"activation": "tanh", "depth": 3, "width": [[64,32,16]], "batch": 4}' > c_layers2.json
printf '{"rules": ["dead_units_frac <= 1 layers=1: layers=2:"]}' > c_rule.json
rm torn_tail.jsonl.part
)SH";

// Shell functions for the cases.
const char* const kPrelude = R"SH(
# interrupt SECONDS CMD...: runs CMD, sends it SIGINT (or $SIG) after SECONDS and exits with its
# status, or 97 when it took longer than $STOP_MS to stop.
interrupt() {
  d=$1; shift
  exec 4<&0  # a job in the background reads /dev/null unless told otherwise
  "$@" <&4 & p=$!
  sleep "$d"
  s=$(date +%s%N); kill -"${SIG:-INT}" $p; wait $p; rc=$?; e=$(date +%s%N)
  ms=$(( (e - s) / 1000000 ))
  if [ $ms -gt "$STOP_MS" ]; then echo "took $ms ms to stop" >&2; exit 97; fi
  exit $rc
}
# wait_for FILE: until FILE holds something (a writer has started).
wait_for() { n=0; until [ -s "$1" ]; do sleep 0.02; n=$((n + 1)); [ $n -lt 3000 ] || exit 96; done; }
)SH";

// A file check after the command. "+f" exists, non-empty; "-f" does not exist; "=f" unchanged;
// "^f" changed; "@f" still a symlink; "c:f" a character device; "p:f" a FIFO; "m640:f" has mode
// 640; "~f" only whole lines (ends in a newline, no NUL byte).
using Checks = std::vector<std::string>;

struct Case {
  const char* cls;  // the class of fault it stands for
  std::string command;
  int exit;
  std::string err;  // a pattern stderr must contain ("" for any)
  Checks files = {};
  std::string out = {};  // a pattern stdout must contain
  long file_size_limit = 0;
};

// Every option that writes a file, as a command with TARGET where the file goes. "svg": the
// option wants a .svg name for a regular file.
struct FileOption {
  const char* flag;  // as error messages name it
  const char* command;
  bool svg = false;
};

const FileOption kFileOptions[] = {
    {"--output", "$G analyze -a relu -d 2 -w 4 -b 2 -o TARGET"},
    {"--plot", "$G analyze -a relu -d 2 -w 4 -b 2 -o r.txt --plot TARGET", true},
    {"--output", "$G theory -a tanh -d 3 -o TARGET"},
    {"--plot", "$G theory -a tanh -d 3 -o r.txt --plot TARGET", true},
    {"--output", "$G bench -a relu --size 1024 --repeat 3 --layer-batch 4 --layer-width 8 -o TARGET"},
    {"--output", "$G merge records.jsonl -o TARGET"},
    {"--output", "$G summarize records.jsonl -o TARGET"},
    {"--plot", "$G summarize records.jsonl --pivot seed,depth -o r.txt --plot TARGET", true},
    {"--output", "$G check -a relu -d 2 -w 4 -b 2 --max-dead-frac 1 -o TARGET"},
    {"--junit", "$G check -a relu -d 2 -w 4 -b 2 --max-dead-frac 1 -o r.txt --junit TARGET"},
    {"--output", "$G train -a relu -d 2 -w 8 --steps 5 -o TARGET"},
    {"--plot", "$G train -a relu -d 2 -w 8 --steps 5 -o r.txt --plot TARGET", true},
    {"--trace", "$G train -a relu -d 2 -w 8 --steps 5 -o r.txt --trace TARGET"},
    {"--output", "$G sweep -a relu -d 2 -w 4 -b 2 -q --overwrite -o TARGET"},
};

// Each kind of target, for one option: the target's name, a shell line run before, the exit
// code and checks. {} in a name or check is .svg or .txt.
struct TargetKind {
  const char* kind;
  const char* target;
  const char* before;  // shell run first
  const char* after;   // appended to the command
  int exit;
  const char* err;
  Checks files;
};

const TargetKind kTargets[] = {
    {"a new file", "new{}", "", "", 0, "", {"+new{}"}},
    {"a regular file (mode kept)", "old{}", "chmod 640 old{}; ", "", 0, "", {"^old{}", "m640:old{}"}},
    {"a symlink: its target is replaced, the link stays", "link{}", "", "", 0, "", {"@link{}", "^old{}"}},
    {"a dangling symlink: the file it names is created", "dangling{}", "", "", 0, "", {"@dangling{}", "+made{}"}},
    {"a FIFO: written through", "fifo{}", "timeout 60 cat fifo{} > got & reader=$!; ",
     "; rc=$?; [ $rc -ne 0 ] || wait $reader; kill $reader 2>/dev/null; exit $rc", 0, "", {"p:fifo{}", "+got"}},
    {"a device node: written through", "node{}", "", "", 0, "", {"c:node{}"}},
    {"/dev/stdout: written through", "/dev/stdout", "", " > stdout.txt", 0, "", {"+stdout.txt"}},
    {"/dev/null: written through", "/dev/null", "", "", 0, "", {"c:/dev/null"}},
    {"a directory", "dir{}", "", "", 2, "is a directory", {"=dir{}"}},
    {"a missing directory", "nodir/x{}", "", "", 2, "No such file or directory", {"-nodir"}},
};

const std::vector<Case> kCases = {
    // First, as the guard of /dev/full below: a device node of our own stays one.
    {"output targets", "$G analyze -a relu -d 2 -w 4 -b 2 -o node.txt", 0, "", {"c:node.txt"}},

    // Two writers of one record file or trace: the second is refused, naming the first, and
    // changes no byte of the file (the first's records stay a prefix).
    {"one writer per file", R"SH(
      $G sweep -a relu -d 40 -w 128 -b 64 --seed 0:5000 -j 1 -q -o c.jsonl & first=$!
      wait_for c.jsonl; cp c.jsonl before.jsonl
      $G sweep -a tanh -d 2 -w 4 -b 2 -q --overwrite -o c.jsonl; rc=$?
      kill -INT $first; wait $first
      head -c "$(wc -c < before.jsonl)" c.jsonl | cmp -s - before.jsonl || exit 98
      exit $rc)SH",
     2, R"(--output: 'c\.jsonl' is being written by another process, pid [0-9]+ \(gradflow sweep .*nothing was changed)",
     {"~c.jsonl"}},
    {"one writer per file", R"SH(
      $G sweep -a relu -d 40 -w 128 -b 64 --seed 0:5000 -j 1 -q -o c.jsonl & first=$!
      wait_for c.jsonl; cp c.jsonl before.jsonl
      $G train -a relu -d 2 -w 8 --steps 5 --trace c.jsonl > /dev/null; rc=$?
      kill -INT $first; wait $first
      head -c "$(wc -c < before.jsonl)" c.jsonl | cmp -s - before.jsonl || exit 98
      exit $rc)SH",
     2, R"(--trace: 'c\.jsonl' is being written by another process, pid [0-9]+)", {"~c.jsonl"}},
    {"one writer per file", R"SH(
      $G train -a relu -d 2 -w 32 --steps 100000000 --log-every 1 --trace t.jsonl > /dev/null & first=$!
      wait_for t.jsonl
      $G sweep -a tanh -d 2 -w 4 -b 2 -q --resume -o t.jsonl; rc=$?
      kill -INT $first; wait $first
      exit $rc)SH",
     2, R"(--output: 't\.jsonl' is being written by another process, pid [0-9]+ \(gradflow train)", {"~t.jsonl"}},
    {"one writer per file", R"SH(
      $G sweep -a relu -d 40 -w 128 -b 64 --seed 0:5000 -j 1 -q -o c.jsonl & first=$!
      wait_for c.jsonl
      $G merge records.jsonl -o c.jsonl; rc=$?
      kill -INT $first; wait $first
      exit $rc)SH",
     2, R"(--output: 'c\.jsonl' is being written by another process)", {"~c.jsonl"}},

    // A full disk mid-run: exit 2, and the file cut back to its last whole line.
    {"full disk", "$G sweep -a relu -d 4 -w 8 -b 4 --seed 0:200 -q -o f.jsonl", 2,
     R"(--output: writing 'f\.jsonl' failed: File too large; 'f\.jsonl' was cut back to its last whole line)",
     {"~f.jsonl", "+f.jsonl"}, "", 6000},
    {"full disk", "$G sweep -a relu -d 4 -w 8 -b 4 --seed 0:200 -q --format csv --layers -o f.csv", 2,
     "was cut back to its last whole line", {"~f.csv", "+f.csv"}, "", 6000},
    {"full disk", "$G train -a relu,tanh -d 3 -w 8 --steps 4000 --log-every 10 --trace t.jsonl > /dev/null", 2,
     R"(--trace: writing 't\.jsonl' failed: File too large; 't\.jsonl' was cut back to its last whole line)",
     {"~t.jsonl", "+t.jsonl"}, "", 6000},
    {"full disk", "$G sweep -a relu -d 4 -w 8 -b 4 --seed 0:200 -q --resume -o f.jsonl", 2, "cut back",
     {"~f.jsonl"}, "", 6000},
    {"full disk", "$G analyze -a relu -d 2 -w 4 -b 2 -o /dev/full", 2,
     "--output: writing '/dev/full' failed: No space left on device"},
    {"full disk", "$G analyze -a relu -d 2 -w 4 -b 2 -o big.txt", 2, "--output: writing 'big.txt' failed",
     {"-big.txt"}, "", 100},

    // Per-layer widths are one network, in every form.
    {"per-layer widths", "$G sweep -a tanh -d 3 -w '[64,32,16]' -b 4 --dry-run", 0, "", {},
     "\n1\t[0-9a-f]{16}\ttanh\t3\t64,32,16\t4\n$"},
    {"per-layer widths", "$G sweep -a tanh -d 2 -w '[8,8]' -b 4 --dry-run", 0, "", {}, "\t8,8\t"},
    {"per-layer widths", "$G sweep -a tanh -d 2 -w '[8,16],8' -b 4 --dry-run | wc -l", 0, "", {}, "^3\n"},
    {"per-layer widths", "$G sweep --config c_layers.json --dry-run", 0, "", {}, "\n1\t[0-9a-f]{16}\ttanh\t3\t64,32,16\t4\n$"},
    {"per-layer widths", "$G sweep --config c_layers2.json --dry-run", 0, "", {}, "\t64,32,16\t"},
    {"per-layer widths", "$G check -a tanh -d 3 -w '[64,32,16]' -b 4 --max-dead-frac 1", 0, "", {},
     "1 run, 1 rule"},
    {"per-layer widths", "$G check --config c_layers2.json --max-dead-frac 1", 0, "", {}, "1 run, 1 rule"},
    {"per-layer widths", "$G analyze -a tanh -d 3 -w 64,32,16 -b 4 --format csv", 0, "", {}, ",3,32,16,"},

    // One rule for lists: an empty element, a trailing comma, a list flag given twice, a
    // sub-option given twice: refused, naming the flag and the value.
    {"lists", "$G analyze -a relu,,tanh -d 2", 2, "--activation: 'relu,,tanh' has an empty element"},
    {"lists", "$G analyze -a relu, -d 2", 2, "--activation: 'relu,' has an empty element"},
    {"lists", "$G analyze -a ,relu -d 2", 2, "--activation: ',relu' has an empty element"},
    {"lists", "$G analyze -w 4,,4 -d 2", 2, "--width: '4,,4' has an empty element"},
    {"lists", "$G analyze -a relu -a tanh -d 2", 2, "--activation was given 2 times"},
    {"lists", "$G analyze -w 4 -w 8 -d 2", 2, "--width was given 2 times"},
    {"lists", "$G analyze -a relu tanh -d 2", 2, "unexpected argument 'tanh'"},
    {"lists", "$G sweep -a relu, -d 2 --dry-run", 2, "--activation: 'relu,' has an empty value"},
    {"lists", "$G sweep -a relu -a tanh -d 2 --dry-run", 2, "--activation was given 2 times"},
    {"lists", "$G sweep --seed 1 --seed 2 -d 2 --dry-run", 2, "--seed was given 2 times"},
    {"lists", "$G check -a relu -a tanh -d 2 --max-dead-frac 1", 2, "--activation was given 2 times"},
    {"lists", "$G theory -a tanh, -d 2", 2, "--activation: 'tanh,' has an empty element"},
    {"lists", "$G theory -a tanh -a relu -d 2", 2, "--activation was given 2 times"},
    {"lists", "$G bench -a relu,,tanh", 2, "--activation: 'relu,,tanh' has an empty element"},
    {"lists", "$G train --seed 1, --steps 1", 2, R"(--seed: '1,' is not allowed)"},
    {"lists", "$G train --seed 1 --seed 2 --steps 1", 2, "--seed was given 2 times"},
    {"lists", "$G summarize records.jsonl --by depth,", 2, "--by: 'depth,' has an empty element"},
    {"lists", "$G summarize records.jsonl -m loss -m dead_units_frac", 2, "--metric was given 2 times"},
    {"lists", "$G summarize records.jsonl --pivot seed,,activation", 2, "--pivot: 'seed,,activation' has an empty"},
    {"lists", "$G summarize records.jsonl --where seed=0, ", 2, "--where: '0,' has an empty element"},
    {"lists", "$G summarize records.jsonl --where seed=0 --where seed=1", 2, "--where: the key 'seed' is given twice"},
    {"lists", "$G check -a relu -d 2 -w 4 -b 2 --rule 'dead_units_frac <= 1 layers=1: layers=2:'", 2,
     "--rule: layers= is given twice"},
    {"lists", R"($G check -a relu -d 2 -w 4 -b 2 --rule '{"metric": "loss", "op": "<", "bound": 9, "bound": 1}')", 2,
     "--rule: the key 'bound' is given twice"},
    {"lists", "$G check -a relu -d 2 -w 4 -b 2 --config c_rule.json", 2, "layers= is given twice"},
    {"lists", "$G check --baseline base.json --metric-atol loss=1 --metric-atol loss=2", 2,
     "--metric-atol: loss is given twice"},
    {"lists", "$G analyze --config c_empty.json -d 2", 2, R"(--config c_empty\.json: --activation: 'relu,' has an empty element)"},
    {"lists", "$G analyze --config c_twice.json", 2, "--config c_twice.json: the key 'depth' is given twice"},

    // A config value that a flag overrides is checked all the same.
    {"overridden config values", "$G analyze --config c_depth0.json -d 2 -w 4 -b 2", 2,
     R"(--config c_depth0\.json: --depth: '0' is not allowed)"},
    {"overridden config values", "$G sweep --config c_depth0.json -d 2 --dry-run", 2, "--depth: '0' is not allowed"},
    {"overridden config values", "$G check --config c_depth0.json -d 2 --max-dead-frac 1", 2, "--depth: '0' is not allowed"},
    {"overridden config values", "$G train --config c_depth0.json -d 2 --steps 1", 2, "--depth: '0' is not allowed"},
    {"overridden config values", "$G theory --config c_depth0.json -d 2", 2, "--depth: '0' is not allowed"},

    // Input problems are exit 2 with a plain message, before any work; never "internal error".
    {"bad input", "$G analyze --config c_1e999.json", 2, R"(--config c_1e999\.json: malformed JSON: number overflow)"},
    {"bad input", "$G analyze --config dir.txt", 2, "--config: 'dir.txt' is a directory"},
    {"bad input", "$G analyze --config /dev/zero", 2, "--config: '/dev/zero' holds more than 64 MiB"},
    {"bad input", "$G check --junit dir.txt -a relu -d 2 -w 4 -b 2 --max-dead-frac 1", 2,
     "--junit: 'dir.txt' is a directory"},
    {"bad input", "$G analyze --max-memory 99999999999999999999G -d 2", 2, "--max-memory: .* is too large"},
    {"bad input", "$G analyze --max-memory 0.0001 -d 2", 2, "--max-memory: '0.0001' is less than one byte"},
    {"bad input", "$G analyze --bias-init 1e999 -d 2", 2, "--bias-init: '1e999' is out of the range of a double"},
    {"bad input", "$G sweep --seed -9223372036854775808:9223372036854775807 --dry-run", 2, "--seed"},
    {"bad input", "$G theory --sigma-b2 1e999", 2, "--sigma-b2: '1e999' is not allowed: '1e999' is out of the range"},
    {"bad input", "$G train --data nul.csv --steps 1 -b 2", 2, R"(line 3, column 2 \('y'\): '4\\x00zz' is not a number)"},
    {"bad input", "$G train --data range.csv --steps 1 -b 2", 2, "'1e999' is out of the range of a double"},
    {"bad input", "$G train --data f32.csv --steps 1 -b 2", 2,
     R"(--data f32\.csv: column 'x' holds values up to 1e\+39 in size, beyond f32's largest)"},
    {"bad input", "$G train --data f32.csv --steps 1 -b 2 --dtype f64 > /dev/null", 0, ""},
    {"bad input", "$G train --weight-decay 1e30 --steps 1", 2, "--weight-decay 1e\\+30 with --lr 0.05"},
    {"bad input", "$G train --data blobs --noise 1e30 --steps 5 -a relu > /dev/null", 0,
     R"(the features reach [0-9.e+]+ in size: rescale them \(--standardize\) or lower --noise)"},
    {"bad input", "$G train --data blobs --noise 1e39 --steps 5 -a relu", 2, "--data blobs with --noise 1e\\+39"},

    // Non-UTF-8 text is replaced in JSON and XML, never fatal after the work is done.
    {"non-UTF-8 text", "$G train --data utf8.csv -a relu -d 2 -w 8 --steps 3 -b 2 --format json", 0, "", {},
     "\"y\xEF\xBF\xBD\""},
    {"non-UTF-8 text", "$G train --data utf8.csv -a relu -d 2 -w 8 --steps 3 -b 2 --plot p.svg > /dev/null && xmllint --noout p.svg",
     0, ""},
    {"non-UTF-8 text", "cp records.jsonl \"$(printf 'r\\377.jsonl')\" && $G summarize \"$(printf 'r\\377.jsonl')\" --format json",
     0, "", {}, "\"r\xEF\xBF\xBD.jsonl\""},
    {"non-UTF-8 text", "cp c_layers.json \"$(printf 'c\\377.json')\" && $G check --config \"$(printf 'c\\377.json')\" --max-dead-frac 1 --format json --junit j.xml && xmllint --noout j.xml",
     0, ""},
    {"non-UTF-8 text", "$G analyze --config \"$(printf 'n\\377ope.json')\"", 2, "cannot read 'n\xEF\xBF\xBDope.json'"},

    // Record files: a torn line is only ever the last, and only the start of a record.
    {"record validation", "$G merge torn.jsonl -o m.jsonl", 0, "torn.jsonl:7: ignored a torn last line", {"~m.jsonl"}},
    {"record validation", "$G merge garbage_tail.jsonl -o m.jsonl", 2, R"(garbage_tail\.jsonl:7: not a record)", {"-m.jsonl"}},
    {"record validation", "$G merge array.jsonl", 2, R"(array\.jsonl:1: not a record of gradflow sweep \(not a JSON object\))"},
    {"record validation", "$G summarize array.jsonl", 2, R"(array\.jsonl:1: not a record)"},
    {"record validation", "$G merge dir.txt", 2, "'dir.txt' is a directory"},
    {"record validation", "$G summarize dir.txt", 2, "'dir.txt' is a directory"},
    {"record validation", "$G merge torn_middle.jsonl", 2, R"(torn_middle\.jsonl:2: not a record)"},
    {"record validation", "cp garbage_tail.jsonl g.jsonl; $G sweep -a relu,tanh -d 2 -w 4 -b 2 --seed 0:2 -q --resume -o g.jsonl; "
     "rc=$?; cmp -s g.jsonl garbage_tail.jsonl || exit 98; exit $rc",
     2, "the last line of 'g.jsonl' \\(line 7\\) is neither a record"},
    {"record validation", "cp torn.jsonl t.jsonl && $G sweep -a relu,tanh -d 2 -w 4 -b 2 --seed 0:2 -q --resume -o t.jsonl && cmp t.jsonl records.jsonl",
     0, "dropped a torn last line"},
    {"record validation", "$G sweep -a relu -d 2 -q --resume -o /dev/null", 2, "--resume reads the records back"},

    // Ctrl-C stops every long command within a second (kStopMs), exit 130. Each command runs for
    // several seconds on a fast machine (at least 4 s measured here), so the signal finds it working.
    {"interrupt", "interrupt 1 $G theory -d 20000 -a tanh", 130, "interrupted"},
    {"interrupt", "SIG=TERM; interrupt 1 $G theory -d 20000 -a tanh", 130, "interrupted"},
    {"interrupt", "interrupt 1 $G theory -a tanh,relu --phase-diagram --sigma-w2 0.5:4:0.01 --sigma-b2 0:0.3:0.005", 130, ""},
    {"interrupt", "interrupt 1 $G analyze -d 100 -w 2048 -b 256 -o a.txt", 130, "interrupted", {"-a.txt"}},
    {"interrupt", "interrupt 1 $G analyze -d 100 -w 2048 -b 256 --theory", 130, "interrupted"},
    {"interrupt", "interrupt 1 $G sweep -d 30 -w 256 -b 64 --seed 0:1000 -q -o s.jsonl", 130, "", {"~s.jsonl"}},
    {"interrupt", "interrupt 1 $G check -d 30 -w 256 -b 64 --seed 0:1000 --max-dead-frac 1", 130, "interrupted"},
    {"interrupt", "interrupt 1 $G train -d 4 -w 1024 -b 512 --steps 100000 --trace t.jsonl", 130, "interrupted",
     {"~t.jsonl"}},
    {"interrupt", "interrupt 1 $G bench --repeat 200", 130, "interrupted"},
    {"interrupt", "exec 3<>fifo.txt; interrupt 1 $G summarize - < fifo.txt", 130, "interrupted"},
    {"interrupt", "interrupt 1 $G analyze -a relu -d 2 -w 4 -b 2 -o fifo.txt", 130, "interrupted", {"p:fifo.txt"}},
};

std::string with_ext(std::string s, bool svg) {
  for (std::size_t p; (p = s.find("{}")) != std::string::npos;) s.replace(p, 2, svg ? ".svg" : ".txt");
  return s;
}

std::vector<Case> file_option_cases() {
  std::vector<Case> cases;
  for (const FileOption& opt : kFileOptions)
    for (const TargetKind& t : kTargets) {
      std::string cmd = opt.command;
      cmd.replace(cmd.find("TARGET"), 6, with_ext(t.target, opt.svg));
      Checks files;
      for (const std::string& f : t.files) files.push_back(with_ext(f, opt.svg));
      const std::string err = t.exit == 2 ? std::string(opt.flag) + ": .*" + t.err : "";
      cases.push_back({t.kind, with_ext(t.before, opt.svg) + cmd + t.after, t.exit, err, files});
    }
  return cases;
}

struct FileState {
  bool exists = false;
  mode_t mode = 0;
  dev_t rdev = 0;
  std::string text;
};

FileState state_of(const std::string& path) {
  FileState s;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.mode = st.st_mode;
  s.rdev = st.st_rdev;
  if (S_ISREG(st.st_mode)) s.text = read_file(path);
  return s;
}

std::vector<std::string> leftovers(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.find(".gradflow-") != std::string::npos || name.find(".tmp.") != std::string::npos) out.push_back(name);
  }
  ::closedir(d);
  return out;
}

// The binary under test: this build's, or GRADFLOW_UNDER_TEST (to show that the table catches
// the faults of another build, e.g. the one before issue 12).
std::string binary() {
  const char* other = std::getenv("GRADFLOW_UNDER_TEST");
  return other && *other ? other : GRADFLOW_BINARY;
}

bool is_null_device(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

class Runner {
 public:
  Runner() : fixtures_(temp_dir()) {
    ProcessOptions o;
    o.cwd = fixtures_;
    o.env = {{"G", binary()}};
    const ProcessResult r = run_process({"/bin/sh", "-c", kFixtures}, o);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    node_ok_ = file_exists(fixtures_ + "/node_ok");
  }
  ~Runner() { std::system(("rm -rf '" + fixtures_ + "'").c_str()); }

  // Runs one case; false if it was skipped.
  bool run(const Case& c) {
    const bool uses_node = c.command.find("node.") != std::string::npos;
    bool writes_dev = false;  // an output option aimed at the machine's /dev/null, /dev/stdout, /dev/full
    for (const char* flag : {"-o /dev/", "--plot /dev/", "--junit /dev/", "--trace /dev/"})
      writes_dev = writes_dev || c.command.find(flag) != std::string::npos;
    if (uses_node && !node_ok_) return false;
    // The machine's device files are tried only once device nodes of our own have come through
    // every case unharmed: were gradflow ever to replace device files again, it would show on a
    // node in a temporary directory, never on /dev/null.
    if (writes_dev && ::getuid() == 0 && (!node_ok_ || node_passed_ == 0 || node_failed_ > 0)) return false;

    const std::string dir = temp_dir();
    REQUIRE(std::system(("cp -a '" + fixtures_ + "/.' '" + dir + "'").c_str()) == 0);
    std::vector<std::pair<std::string, FileState>> before;
    for (const std::string& check : c.files)
      if (check.front() == '=' || check.front() == '^') {
        const std::string f = check.substr(1);
        before.emplace_back(f, state_of(dir + "/" + f));
      }
    ProcessOptions o;
    o.cwd = dir;
    o.env = {{"G", binary()}, {"STOP_MS", std::to_string(kStopMs)}};
    o.file_size_limit = c.file_size_limit;
    const std::string script = std::string(kPrelude) + c.command;
    const ProcessResult r = run_process({"/bin/sh", "-c", script}, o);

    INFO("class: " << std::string(c.cls));
    INFO("command: " << c.command);
    INFO("exit: " << r.exit_code);
    INFO("stderr: " << r.err);
    INFO("stdout: " << r.out.substr(0, 2000));
    bool passed = true;
    auto expect = [&](bool ok) {
      passed = passed && ok;
      return ok;
    };
    CHECK(expect(r.exit_code == c.exit));
    if (!c.err.empty()) CHECK(expect(std::regex_search(r.err, std::regex(c.err))));
    if (!c.out.empty()) CHECK(expect(std::regex_search(r.out, std::regex(c.out))));
    CHECK(expect(r.err.find("internal error") == std::string::npos));
    CHECK(expect(leftovers(dir).empty()));
    for (const std::string& check : c.files) {
      INFO("file check: " << check);
      const char kind = check.front();
      const std::size_t colon = check.find(':');
      const std::string f = colon != std::string::npos && kind != '+' && kind != '-' && kind != '=' && kind != '^' &&
                                    kind != '@' && kind != '~'
                                ? check.substr(colon + 1)
                                : check.substr(1);
      const std::string path = f.front() == '/' ? f : dir + "/" + f;
      const FileState now = state_of(path);
      if (kind == '+') CHECK(expect(now.exists && (!S_ISREG(now.mode) || !now.text.empty())));
      else if (kind == '-') CHECK(expect(!now.exists));
      else if (kind == '@') CHECK(expect(S_ISLNK(now.mode)));
      else if (kind == 'c') CHECK(expect(S_ISCHR(now.mode)));
      else if (kind == 'p') CHECK(expect(S_ISFIFO(now.mode)));
      else if (kind == 'm')
        CHECK(expect((now.mode & 07777) == static_cast<mode_t>(std::stoi(check.substr(1, colon - 1), nullptr, 8))));
      else if (kind == '~')
        CHECK(expect(now.text.empty() || (now.text.back() == '\n' && now.text.find('\0') == std::string::npos)));
      else {
        const auto it = std::find_if(before.begin(), before.end(), [&](const auto& b) { return b.first == f; });
        REQUIRE(it != before.end());
        const bool same = it->second.exists == now.exists && it->second.mode == now.mode && it->second.text == now.text;
        CHECK(expect(kind == '=' ? same : !same));
      }
    }
    if (uses_node) ++(passed ? node_passed_ : node_failed_);
    if (!is_null_device("/dev/null")) {
      FAIL("/dev/null is no longer the null device after: " << c.command);
    }
    std::system(("rm -rf '" + dir + "'").c_str());
    return true;
  }

 private:
  std::string fixtures_;
  bool node_ok_ = false;
  static inline int node_passed_ = 0, node_failed_ = 0;  // over every Runner of this process
};

}  // namespace

TEST_CASE("output targets: every file option against every kind of target") {
  Runner runner;
  int skipped = 0;
  for (const Case& c : file_option_cases()) skipped += !runner.run(c);
  MESSAGE(skipped << " cases skipped (device nodes need root and a file system that allows them)");
}

TEST_CASE("robustness: one writer per file, full disks, lists, configs, input errors, records, Ctrl-C") {
  Runner runner;
  for (const Case& c : kCases) runner.run(c);
}

#ifndef GRADFLOW_SANITIZED
TEST_CASE("a million-run sweep plans in a few bytes a run, and says what it holds") {
  // 200000 runs of tiny networks: planning keeps 16 bytes a run at its peak, and the plan line's
  // memory covers the plan. The peak resident size (the program itself is about 10 MiB) stays
  // within the estimate plus 32 MiB; before issue 12 the plan held about 650 bytes a run.
  const ProcessResult r = run_gradflow({"sweep", "-a", "relu", "-d", "1", "-w", "1", "-b", "1", "--seed", "0:199999",
                                        "--max-runs", "200000", "-j", "1", "-o", "/dev/null"});
  REQUIRE(r.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.err, m, std::regex(R"(estimated .*, ([0-9.]+) (KiB|MiB) of memory at most)")));
  const double estimate_mib = std::stod(m[1]) / (m[2] == "KiB" ? 1024 : 1);
  CHECK(estimate_mib >= 200000.0 * 16 / (1 << 20));
  CAPTURE(r.max_rss_kib);
  CHECK(static_cast<double>(r.max_rss_kib) / 1024 < estimate_mib + 32);
}
#endif
