#!/usr/bin/env bash
# The C++ sources' format: every .hpp and .cpp under include/, examples/ and
# tests/ as .clang-format says (clang-format 14 or later).
#
#   tests/format.sh          check; names each file that differs, exits 1
#   tests/format.sh --fix    reformat those files in place
#
# Without clang-format it prints coaudio-test-skipped and exits 0.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
fix=no
case ${1:-} in
'') ;;
--fix) fix=yes ;;
*) echo "usage: tests/format.sh [--fix]" >&2; exit 2 ;;
esac

if ! command -v clang-format >/dev/null; then
    echo "coaudio-test-skipped: clang-format is not installed"
    exit 0
fi

# The files git knows of; in a copy without git, the same directories' files.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files 'include/*.hpp' 'examples/*.hpp' 'examples/*.cpp' \
        'tests/*.hpp' 'tests/*.cpp')
else
    mapfile -t files < <(find include examples tests -name '*.hpp' -o -name '*.cpp' | sort)
fi

if [[ $fix == yes ]]; then
    clang-format -i "${files[@]}"
    exit 0
fi
bad=()
for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]} > 0)); then
    printf 'not formatted as .clang-format says: %s\n' "${bad[@]}"
    echo "format: ${#bad[@]} of ${#files[@]} files differ; tests/format.sh --fix reformats them"
    exit 1
fi
echo "format: all ${#files[@]} files as .clang-format says ($(clang-format --version))"
