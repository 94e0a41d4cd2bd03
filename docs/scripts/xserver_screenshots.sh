#!/bin/sh
# Every README screenshot, regenerated: the live window captured from the X server with
# ImageMagick (import -window root) under Xvfb, driven by real input (xdotool when installed),
# and the demo's PDF report rendered by poppler.
#
#   docs/scripts/xserver_screenshots.sh [OUT_DIR] [SCENE...]   (default: docs/screenshots, all)
#
# Scenes (docs/scripts/xserver_screenshots.py has what each one shows) and their files:
#   demo          demo-lumbar-mr.png         the demo lumbar MR as it opens
#   annotations   demo-annotations.png       the demo with its ground truth as annotations
#   ai            demo-ai.png                the demo analysed: AI labels, Findings panel
#   review-panel  annotation-review.png      proposals reviewed by keyboard, Annotations panel
#   xr            xr-implants-cobb.png       spine X-ray analysed: implants, vertebrae, Cobb
#   ct-distance   ct-axial-distance.png      acquired axial CT, default layout, a distance
#   labelling     labelling-tool.png         the vertebra labelling tool (1920x1080)
#   review        review-statuses.png        the AI's review statuses (1920x1080)
#   sagittal      sagittal-disc-states.png   disc states from the sagittal series alone
#   report        report-page-1.png, report-page-2.png   the demo's PDF report (pdftoppm)
#
# Needs xvfb-run, ImageMagick's import and poppler's pdftoppm (Debian: xvfb xauth imagemagick
# poppler-utils); xdotool for real input (else QTest on the real window) and pngquant to keep
# each PNG small (else they stay as import wrote them). Each scene runs with scratch settings
# and a scratch annotation workspace: the user's are never shown.
set -eu
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
out=${1:-docs/screenshots}
[ $# -gt 0 ] && shift
scenes=${*:-demo annotations ai review-panel xr ct-distance labelling review sagittal report}
for tool in xvfb-run import pdftoppm; do
    command -v "$tool" >/dev/null || {
        echo "missing $tool (apt-get install xvfb xauth imagemagick poppler-utils)" >&2
        exit 2
    }
done
command -v xdotool >/dev/null || echo "no xdotool: input goes through QTest (apt-get install xdotool)"
mkdir -p "$out"

shrink() {  # a 256-colour palette: the dark UI and grey images keep their look at a third
    if command -v pngquant >/dev/null; then
        rc=0  # 98: no smaller, 99: not good enough; the file is then kept as it is
        pngquant --force --skip-if-larger --speed 1 --quality 80-100 --strip --output "$1" -- "$1" \
            || rc=$?
        case $rc in 0 | 98 | 99) ;; *) echo "pngquant failed on $1 ($rc)" >&2 && exit 1 ;; esac
    fi
    echo "$1: $(($(wc -c <"$1") / 1024)) KiB"
}

shot() {  # shot SCENE FILE [WIDTHxHEIGHT]
    scratch=$(mktemp -d)
    XDG_CONFIG_HOME="$scratch/config" SPINEVIEWER_WORKSPACE="$scratch/workspace" \
        xvfb-run -a -s "-screen 0 ${3:-1600x900}x24" \
        "$VENV/bin/python" docs/scripts/xserver_screenshots.py --scene "$1" --out "$out/$2"
    rm -rf "$scratch"
    shrink "$out/$2"
}

report() {  # the demo study's PDF report, its first two pages
    scratch=$(mktemp -d)
    "$VENV/bin/spineviewer" phantom "$scratch/demo" --kind lumbar-mr --seed 1 >/dev/null
    XDG_CONFIG_HOME="$scratch/config" SPINEVIEWER_WORKSPACE="$scratch/workspace" \
        "$VENV/bin/spineviewer" report "$scratch/demo" --out "$scratch/report" --format pdf \
        --provider cpu >/dev/null
    pdftoppm -r 60 -png -f 1 -l 2 "$scratch"/report/*/report.pdf "$out/report-page"
    rm -rf "$scratch"
    shrink "$out/report-page-1.png"
    shrink "$out/report-page-2.png"
}

for scene in $scenes; do
    case $scene in
        demo) shot demo demo-lumbar-mr.png ;;
        annotations) shot annotations demo-annotations.png ;;
        ai) shot ai demo-ai.png ;;
        review-panel) shot review-panel annotation-review.png ;;
        xr) shot xr xr-implants-cobb.png ;;
        ct-distance) shot ct-distance ct-axial-distance.png ;;
        labelling) shot labelling labelling-tool.png 1920x1080 ;;
        review) shot review review-statuses.png 1920x1080 ;;
        sagittal) shot sagittal sagittal-disc-states.png 1920x1080 ;;
        report) report ;;
        *) echo "unknown scene $scene" >&2 && exit 2 ;;
    esac
done
