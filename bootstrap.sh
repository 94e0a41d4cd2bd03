#!/bin/sh
# SpineViewer set-up and task runner for a fresh Debian/Ubuntu machine.
#
#   ./bootstrap.sh demo   install the app in .venv and run the main job on the demo study
#   ./bootstrap.sh test   install the app + test tools in .venv and run the whole test suite
#   ./bootstrap.sh screenshots [OUT_DIR]
#                         screenshots of the real window under Xvfb (demo MR, CT phantom, real CT)
#
# System packages (Qt's X11/EGL libraries; for tests also Xvfb, dicom3tools, dcmtk,
# poppler-utils, ffmpeg for ffprobe) are installed with apt-get when missing and running as root; otherwise the
# missing ones are listed and the tests that need them are skipped with that reason.
set -eu
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

RUNTIME_DEBS="libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libx11-6
libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1
libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libxkbcommon0 libxkbcommon-x11-0 fonts-dejavu-core"
TEST_DEBS="xvfb xauth imagemagick dicom3tools dcmtk poppler-utils orthanc orthanc-dicomweb ffmpeg"

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
        # repeated blocks of 6 lines or more (imports, docstrings and comments aside)
        "$VENV/bin/pylint" --disable=all --enable=duplicate-code --min-similarity-lines=6 \
            --ignore-imports=y --ignore-docstrings=y --ignore-comments=y --score=n spineviewer
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    screenshots)
        # Every README screenshot from the X server's framebuffer (docs/scripts/
        # xserver_screenshots.sh: Xvfb, real input through xdotool, ImageMagick's import).
        # shellcheck disable=SC2086
        system_deps $RUNTIME_DEBS xvfb xauth imagemagick poppler-utils xdotool pngquant
        venv ""
        shift
        VENV=$VENV exec docs/scripts/xserver_screenshots.sh "$@"
        ;;
    *)
        echo "usage: ./bootstrap.sh demo|test|screenshots [extra arguments]" >&2
        exit 2
        ;;
esac
