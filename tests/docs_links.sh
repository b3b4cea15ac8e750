#!/usr/bin/env bash
# The documentation's links and cited paths resolve, and the repository stands alone.
#   1. Every relative Markdown link [text](path) and ![alt](path) in every tracked *.md file
#      names an existing file or folder (relative to the file that holds it; #anchors are
#      stripped; http(s):, mailto: and same-page #anchors are skipped).
#   2. Every repository path written alone in backticks (`models/smp/frame.h`,
#      `sim/rng.h:42`, `scenarios/fleet/`) that starts with sim/, models/, report/, tests/,
#      scenarios/, results/, bench/, docs/, .ci/, setup.sh, CMakeLists.txt, README.md or
#      CONTRIBUTING.md exists. A trailing :LINE and trailing punctuation are allowed; patterns
#      (* ? [ ] < > { } …), placeholder folders in capitals (seeds/NAME/) and paths git ignores
#      (outputs such as results/NAME.db) are not citations and are skipped. Fenced code blocks are commands, not citations: skipped.
#   3. No tracked *.md, *.c, *.h or *.yaml file mentions "../shared" or "shared/reference"
#      (files outside the repository).
# Every problem is listed as FILE:LINE: what is wrong; the exit code is 1 if there is any.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t md_files < <(git ls-files '*.md')
    mapfile -t src_files < <(git ls-files '*.md' '*.c' '*.h' '*.yaml')
else # an exported tree without .git: every file but the build folders
    mapfile -t md_files < <(find . -path './build*' -prune -o -name '*.md' -print | sed 's|^\./||')
    mapfile -t src_files < <(find . -path './build*' -prune -o \
        \( -name '*.md' -o -name '*.c' -o -name '*.h' -o -name '*.yaml' \) -print | sed 's|^\./||')
fi
[ ${#md_files[@]} -gt 0 ] || { echo "docs_links: no Markdown files found under $root" >&2; exit 2; }

problems=0
report() { # FILE LINE MESSAGE
    echo "$1:$2: $3"
    problems=$((problems + 1))
}

is_ignored() { # PATH: git ignores it (an output, not something the repository holds)
    git check-ignore -q --no-index -- "$1" 2>/dev/null
}

# Candidates of one Markdown file, one per line: LINE<TAB>link|code<TAB>TARGET.
# Fenced code blocks are blanked; links are searched with inline code removed.
candidates() {
    awk '
    /^[ \t]*(```|~~~)/ { fence = !fence; next }
    fence { next }
    {
        line = $0
        # backtick spans: code citations
        rest = line
        while (match(rest, /`[^`]+`/)) {
            span = substr(rest, RSTART + 1, RLENGTH - 2)
            printf "%d\tcode\t%s\n", NR, span
            rest = substr(rest, RSTART + RLENGTH)
        }
        # links, outside inline code
        gsub(/`[^`]*`/, "", line)
        while (match(line, /\]\([^)]*\)/)) {
            target = substr(line, RSTART + 2, RLENGTH - 3)
            printf "%d\tlink\t%s\n", NR, target
            line = substr(line, RSTART + RLENGTH)
        }
    }' "$1"
}

check_link() { # FILE LINE TARGET
    local file=$1 line=$2 t=$3
    t=${t#<}
    t=${t%%>*}
    t=${t%% *} # drop a "title"
    case "$t" in
    '' | '#'* | http://* | https://* | mailto:*) return ;;
    esac
    t=${t%%#*}
    t=${t%%\?*}
    local path
    if [[ $t == /* ]]; then path=${t#/}; else path=$(dirname "$file")/$t; fi
    [ -e "$path" ] || report "$file" "$line" "broken link ($t): no such file $path"
}

prefix_re='^(sim/|models/|report/|tests/|scenarios/|results/|bench/|docs/|\.ci/|setup\.sh|CMakeLists\.txt|README\.md|CONTRIBUTING\.md)'

check_code() { # FILE LINE SPAN
    local file=$1 line=$2 p=$3
    [[ $p =~ $prefix_re ]] || return
    [[ $p =~ [[:space:]] ]] && return      # a command, not a path
    [[ $p == *[\*\?\[\]\<\>\{\}…]* || $p == *...* ]] && return   # a pattern
    # trailing punctuation, then :LINE or :LINE-LINE
    while [[ $p =~ [.,\;:\)\'\"]$ ]]; do p=${p%?}; done
    [[ $p =~ ^(.*):[0-9]+(-[0-9]+)?$ ]] && p=${BASH_REMATCH[1]}
    while [[ $p =~ [.,\;:\)]$ ]]; do p=${p%?}; done
    [[ /$p/ =~ /[A-Z][A-Z0-9_]*/ ]] && return   # a placeholder segment: seeds/NAME/
    is_ignored "$p" && return
    [ -e "$p" ] || report "$file" "$line" "cited path \`$p\` does not exist"
}

for f in "${md_files[@]}"; do
    [ -f "$f" ] || continue
    while IFS=$'\t' read -r line kind target; do
        if [ "$kind" = link ]; then
            check_link "$f" "$line" "$target"
        else
            check_code "$f" "$line" "$target"
        fi
    done < <(candidates "$f")
done

# 3. Nothing points outside the repository.
for f in "${src_files[@]}"; do
    [ -f "$f" ] || continue
    while IFS=: read -r line _; do
        report "$f" "$line" "mentions a file outside the repository (../shared or shared/reference)"
    done < <(grep -n -e '\.\./shared' -e 'shared/reference' -- "$f")
done

if [ "$problems" -gt 0 ]; then
    echo "docs_links: $problems problem(s) in the documentation's links and citations" >&2
    exit 1
fi
echo "docs_links: every link and cited path of ${#md_files[@]} Markdown files resolves"
