#!/bin/sh
# Screenshots of the vertebra labelling tool and of the AI's review statuses, taken from the X
# server with ImageMagick (import -window root) under Xvfb at 1920x1080.
#
#   docs/scripts/xserver_screenshots.sh [OUT_DIR]     (default: docs/screenshots)
#
# Needs xvfb-run and ImageMagick's import (Debian: xvfb xauth imagemagick). Each scene runs
# with scratch settings and a scratch annotation workspace: the user's are never shown.
set -eu
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
out=${1:-docs/screenshots}
for tool in xvfb-run import; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install xvfb imagemagick)" >&2; exit 2; }
done
shot() {
    scratch=$(mktemp -d)
    XDG_CONFIG_HOME="$scratch/config" SPINEVIEWER_WORKSPACE="$scratch/workspace" \
        xvfb-run -a -s "-screen 0 1920x1080x24" \
        "$VENV/bin/python" docs/scripts/xserver_screenshots.py --scene "$1" --out "$out/$2"
    rm -rf "$scratch"
}
shot labelling labelling-tool.png
shot review review-statuses.png
shot sagittal sagittal-disc-states.png
