#!/bin/sh
# Build the one-folder Linux application into packaging/dist/spineviewer/ with PyInstaller,
# from the project's virtual environment (created by ./bootstrap.sh). Then run smoke_test.sh.
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || ./bootstrap.sh >/dev/null 2>&1 || true
"$VENV/bin/python" -m pip install -q "pyinstaller>=6.10"
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath packaging/dist --workpath packaging/build packaging/spineviewer.spec
cp packaging/spineviewer.desktop packaging/dist/spineviewer/
cp resources/icons/spineviewer.svg packaging/dist/spineviewer/spineviewer.svg
du -sh packaging/dist/spineviewer
echo "built packaging/dist/spineviewer/spineviewer"
