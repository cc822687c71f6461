#!/usr/bin/env bash
# gradflow installed as a user gets it, twice: by `cmake --install BUILD --prefix P`, and from the
# Debian package (`cpack -G DEB`, unpacked with `dpkg -x` into a scratch root). In each:
# bin/gradflow --version (text and JSON), the man page through `man -l` with every command and
# every long option of `--help`, bash, fish and zsh completions (real completion queries where the
# shell is installed: .ci/setup --tests installs fish and zsh), the presets and the docs. For the package also: its Depends name the
# Debian package of every shared library the binary links.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR. Exit 0 passed, 1 failed, 77 skipped (a tool that
# .ci/setup installs is missing), with a message saying which.
set -euo pipefail
build=$(cd "${1:?usage: install_test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: install_test.sh BUILD_DIR SOURCE_DIR}" && pwd)
fail() { echo "FAILED: $*" >&2; exit 1; }
skip() { echo "SKIPPED: $*" >&2; exit 77; }
for tool in man dpkg-deb dpkg-shlibdeps file; do
  command -v "$tool" >/dev/null || skip "$tool is missing (.ci/setup installs man-db, dpkg-dev and file)"
done
work=$(mktemp -d /tmp/gradflow-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

commands=$("$build/gradflow" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]+ / {print $1} on && /^$/ {on = 0}')
[ -n "$commands" ] || fail "found no commands in gradflow --help"
activations=$("$build/gradflow" list --format json | python3 -c 'import json, sys; print(" ".join(a["name"] for a in json.load(sys.stdin)["activations"]))')
inits=$("$build/gradflow" list --format json | python3 -c 'import json, sys; print(" ".join(a["name"] for a in json.load(sys.stdin)["inits"]))')

check_root() {  # ROOT PREFIX (e.g. /usr): what is installed under ROOT/PREFIX works
  local root=$1 prefix=$2 p="$1$2" name
  name="${1##*/}$2"
  [ -x "$p/bin/gradflow" ] || fail "$name: bin/gradflow is missing"
  local version
  version=$("$p/bin/gradflow" --version)
  [ "$version" = "$("$build/gradflow" --version)" ] || fail "$name: --version says '$version'"
  "$p/bin/gradflow" --version --format json | python3 -c '
import json, sys
v = json.load(sys.stdin)
missing = {"version", "git_sha", "build_type", "compiler", "simd", "gemm"} - set(v)
assert not missing, f"--version --format json lacks {missing}"' || fail "$name: --version --format json"

  # The man page: renders without warnings and documents every command and every long option
  # that --help shows.
  local man="$p/share/man/man1/gradflow.1" text warnings
  [ -f "$man" ] || fail "$name: share/man/man1/gradflow.1 is missing"
  text=$(MANWIDTH=100 man -l "$man" 2>/dev/null | col -b)
  warnings=$(MANWIDTH=100 man --warnings -l "$man" 2>&1 >/dev/null || true)
  [ -z "$warnings" ] || fail "$name: man -l warns: $warnings"
  for c in $commands; do
    local upper
    upper=$(echo "gradflow $c" | tr a-z A-Z)
    grep -q "^$upper\$" <<< "$text" || fail "$name: the man page has no section '$upper'"
    for opt in $("$p/bin/gradflow" "$c" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
      grep -q -- "$opt" <<< "$text" || fail "$name: the man page lacks $opt of gradflow $c"
    done
  done

  # bash: the completion is registered, and completes commands and an option's choices.
  local bash_file="$p/share/bash-completion/completions/gradflow" got
  [ -f "$bash_file" ] || fail "$name: the bash completion is missing"
  bash -c "source '$bash_file'; complete -p gradflow" | grep -q -- '-F _gradflow gradflow' ||
    fail "$name: bash: 'complete -p gradflow' does not show _gradflow"
  got=$(bash -c "source '$bash_file'; COMP_WORDS=(gradflow an); COMP_CWORD=1; _gradflow; echo \${COMPREPLY[*]}")
  [ "$got" = analyze ] || fail "$name: bash completes 'gradflow an' to '$got', not 'analyze'"
  got=$(bash -c "source '$bash_file'; COMP_WORDS=(gradflow analyze -a ''); COMP_CWORD=3; _gradflow; echo \${COMPREPLY[*]}")
  [ "$got" = "$activations" ] || fail "$name: bash completes 'gradflow analyze -a' to '$got', not the activations of gradflow list ('$activations')"
  got=$(bash -c "source '$bash_file'; COMP_WORDS=(gradflow sweep --form); COMP_CWORD=2; _gradflow; echo \${COMPREPLY[*]}")
  [ "$got" = --format ] || fail "$name: bash completes 'gradflow sweep --form' to '$got'"

  # fish: a real query when fish is installed.
  local fish_file="$p/share/fish/vendor_completions.d/gradflow.fish"
  [ -f "$fish_file" ] || fail "$name: the fish completion is missing"
  if command -v fish >/dev/null; then
    # fish sorts what it offers.
    got=$(fish --no-config -c "source '$fish_file'; complete -C 'gradflow analyze -a '" | cut -f1 | sort | tr '\n' ' ')
    [ "$got" = "$(tr ' ' '\n' <<< "$activations" | sort | tr '\n' ' ')" ] || fail "$name: fish completes 'gradflow analyze -a ' to '$got', not '$activations'"
    got=$(fish --no-config -c "source '$fish_file'; complete -C 'gradflow tr'" | cut -f1)
    [ "$got" = train ] || fail "$name: fish completes 'gradflow tr' to '$got'"
  else
    echo "note: fish is not installed; its completion was only checked to exist" >&2
  fi
  # zsh: completion runs only in an interactive shell, so one is driven through a pseudo-terminal
  # (zsh/zpty): type 'gradflow analyze --init <TAB>' and read the listed choices.
  local zsh_file="$p/share/zsh/vendor-completions/_gradflow"
  [ -f "$zsh_file" ] || fail "$name: the zsh completion is missing"
  if command -v zsh >/dev/null; then
    zsh -n "$zsh_file" || fail "$name: zsh -n rejects the zsh completion"
    got=$(timeout 30 zsh -f -c '
      zmodload zsh/zpty
      zpty z "zsh -f -i"
      zpty -w z "PS1=\"> \"; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; LISTMAX=10000; gradflow() { :; }"
      zpty -w -n z $'"'"'gradflow analyze --init \t'"'"'
      sleep 2
      zpty -w -n z $'"'"'\C-c'"'"'
      zpty -w z exit
      out=""
      while zpty -r -t z line 2>/dev/null; do out+="$line"; done
      print -r -- "$out"
      zpty -d z' zsh "$(dirname "$zsh_file")" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g')
    for init in $inits; do
      grep -qw -- "$init" <<< "$got" || fail "$name: zsh does not list '$init' for 'gradflow analyze --init <TAB>': $got"
    done
  else
    echo "note: zsh is not installed; its completion was not queried" >&2
  fi

  [ -f "$p/share/gradflow/configs/default.json" ] || fail "$name: the presets (share/gradflow/configs) are missing"
  [ -f "$p/share/doc/gradflow/README.md" ] || fail "$name: share/doc/gradflow/README.md is missing"
  "$p/bin/gradflow" analyze --config "$p/share/gradflow/configs/deep-sigmoid.json" -d 3 -w 8 -b 4 --format json >/dev/null ||
    fail "$name: gradflow analyze with an installed preset failed"
  echo "ok: $name"
}

echo "== cmake --install"
cmake --install "$build" --prefix "$work/prefix" >/dev/null || fail "cmake --install failed"
check_root "$work/prefix" ""

echo "== cpack -G DEB, dpkg -x"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >/dev/null) || fail "cpack -G DEB failed"
deb=$(ls "$work"/pkg/gradflow_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# Every shared library the binary needs comes from a package the .deb depends on.
for lib in $(objdump -p "$build/gradflow" | awk '/NEEDED/ {print $2}'); do
  # awk reads to the end: an early exit would kill ldconfig with SIGPIPE once its listing outgrows
  # the pipe buffer (64 KiB), and pipefail would end this script without a word.
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ && p == "" {p = $NF} END {print p}')
  [ -n "$path" ] || fail "cannot find $lib"
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | awk -F: 'NR == 1 {print $1}') ||
    pkg=$(dpkg -S "$path" | awk -F: 'NR == 1 {print $1}')
  [ -n "$pkg" ] || fail "no package owns $path"
  grep -qw -- "$pkg" <<< "$depends" || fail "the binary links $lib (package $pkg), which Depends does not name: $depends"
done
dpkg -x "$deb" "$work/root"
check_root "$work/root" /usr
echo "PASSED: cmake --install and the .deb ($(basename "$deb"))"
