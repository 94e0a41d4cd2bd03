#!/bin/sh
# SpineViewer set-up and task runner for a fresh Debian/Ubuntu machine.
#
#   ./bootstrap.sh demo   install the app in .venv and run the main job on the demo study
#   ./bootstrap.sh test   install the app + test tools in .venv and run the whole test suite
#   ./bootstrap.sh screenshots [OUT_DIR]
#                         screenshots of the real window under Xvfb (demo MR, CT phantom, real CT)
#
# System packages (Qt's X11/EGL libraries; for tests also Xvfb, dicom3tools, dcmtk,
# poppler-utils) are installed with apt-get when missing and running as root; otherwise the
# missing ones are listed and the tests that need them are skipped with that reason.
set -eu
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

RUNTIME_DEBS="libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libx11-6
libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1
libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libxkbcommon0 libxkbcommon-x11-0 fonts-dejavu-core"
TEST_DEBS="xvfb xauth imagemagick dicom3tools dcmtk poppler-utils orthanc orthanc-dicomweb"

missing_debs() {
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || printf '%s ' "$pkg"
    done
}

system_deps() {
    # shellcheck disable=SC2086
    need=$(missing_debs "$@")
    if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        need="$need python3-venv"
    fi
    [ -z "$need" ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing system packages: $need"
        apt-get update -q >/dev/null
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >/dev/null
    else
        echo "Missing system packages (install them as root): $need" >&2
    fi
}

venv() {
    extra=$1
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip
    fi
    stamp="$VENV/.installed$extra"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "Installing spineviewer$extra into $VENV ..."
        "$VENV/bin/python" -m pip install -q -e ".$extra"
        touch "$stamp"
    fi
}

case "${1:-}" in
    demo)
        # shellcheck disable=SC2086
        system_deps $RUNTIME_DEBS
        venv ""
        shift
        exec "$VENV/bin/spineviewer" demo "$@"
        ;;
    test)
        # shellcheck disable=SC2086
        system_deps $RUNTIME_DEBS $TEST_DEBS
        venv "[dev,train,dask]"
        shift
        "$VENV/bin/lint-imports"
        "$VENV/bin/ruff" check spineviewer tests bench
        "$VENV/bin/mypy"
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    screenshots)
        # shellcheck disable=SC2086
        system_deps $RUNTIME_DEBS xvfb xauth poppler-utils
        venv ""
        out=${2:-docs/screenshots}
        mkdir -p "$out"
        shot() {
            name=$1
            shift
            xvfb-run -a -s "-screen 0 1920x1080x24" "$VENV/bin/spineviewer" "$@" \
                --screenshot "$out/$name.png"
        }
        # Scratch settings and annotation workspace: the user's docks, layouts and annotations
        # never show up here.
        XDG_CONFIG_HOME=$(mktemp -d)
        export XDG_CONFIG_HOME
        SPINEVIEWER_WORKSPACE=$(mktemp -d)
        export SPINEVIEWER_WORKSPACE
        shot demo-lumbar-mr demo
        "$VENV/bin/python" docs/scripts/seed_demo_annotations.py
        shot demo-annotations demo --layout 1x1
        rm -rf "$SPINEVIEWER_WORKSPACE"
        SPINEVIEWER_WORKSPACE=$(mktemp -d)
        shot demo-ai demo --analyze
        rm -rf "$SPINEVIEWER_WORKSPACE"
        SPINEVIEWER_WORKSPACE=$(mktemp -d)
        "$VENV/bin/spineviewer" phantom "$out/.phantoms" --kind lumbar-ct --seed 3 >/dev/null
        shot phantom-lumbar-ct view "$out/.phantoms/lumbar-ct-00003"
        "$VENV/bin/spineviewer" phantom "$out/.phantoms" --kind spine-xr --seed 4 >/dev/null
        shot phantom-spine-xr view "$out/.phantoms/spine-xr-00004"
        "$VENV/bin/spineviewer" phantom "$out/.phantoms" --kind spine-xr --seed 94010 >/dev/null
        shot phantom-spine-xr-ai view "$out/.phantoms/spine-xr-94010" --analyze
        # The demo study's PDF report, its first two pages as rendered by poppler.
        report=$(mktemp -d)
        "$VENV/bin/spineviewer" report "${XDG_CACHE_HOME:-$HOME/.cache}/spineviewer/demo" --out "$report" \
            --format pdf --provider cpu >/dev/null
        pdftoppm -r 60 -png -f 1 -l 2 "$report"/*/report.pdf "$out/report-page"
        rm -rf "$report"
        rm -rf "$out/.phantoms"
        real_ct=${REAL_CT:-../shared/data/real/totalsegmentator-examples/ct_dicom}
        if [ -d "$real_ct" ]; then
            shot real-ct-mpr view "$real_ct"
        else
            echo "skipping the real CT screenshot: $real_ct not found (set REAL_CT)"
        fi
        ;;
    *)
        echo "usage: ./bootstrap.sh demo|test|screenshots [extra arguments]" >&2
        exit 2
        ;;
esac
