#!/bin/sh
# Smoke test of the frozen application: --version, info and report (JSON, HTML, PDF) on a
# phantom study, and the offscreen viewer's screenshot. Exit status 0 when all pass.
set -eu
cd "$(dirname "$0")/.."
APP=${APP:-packaging/dist/spineviewer/spineviewer}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
start=$(date +%s)
"$APP" --version
"$APP" phantom "$WORK/in" --kind lumbar-mr --seed 7 >/dev/null
"$APP" info "$WORK/in" --json > "$WORK/info.json"
grep -q '"modality": "MR"' "$WORK/info.json"
SPINEVIEWER_WORKSPACE="$WORK/ws" "$APP" report "$WORK/in" --out "$WORK/out" \
    --format json,html,pdf,sr --provider cpu > "$WORK/files.txt"
for f in report.json report.html report.pdf report_sr.dcm; do
    grep -q "/$f\$" "$WORK/files.txt" || { echo "missing $f"; exit 1; }
done
grep -q '"not_for_clinical_use": true' "$WORK"/out/*/report.json
QT_QPA_PLATFORM=offscreen SPINEVIEWER_WORKSPACE="$WORK/ws" \
    "$APP" view "$WORK/in" --screenshot "$WORK/shot.png"
[ -s "$WORK/shot.png" ]
echo "smoke test passed in $(( $(date +%s) - start )) s"
