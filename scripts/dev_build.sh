#!/usr/bin/env bash
# Build synthmark._core in place (src/synthmark/_core*.so) and the core tests, for development:
#   bash scripts/dev_build.sh && PYTHONPATH=src python -m pytest
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/dev -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" >/dev/null
cmake --build build/dev
