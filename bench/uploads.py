"""Hostile uploads: the time and extra memory each costs, measured in a fresh interpreter."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys, time
from pathlib import Path
from explorer.upload import UploadError, prepare_upload

def status_mb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0

results = {}
for path in sorted(Path(sys.argv[1]).iterdir()):
    raw = path.read_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current size
    before = status_mb("VmRSS")
    started = time.perf_counter()
    try:
        prepare_upload(raw, 128)
        outcome = "framed"
    except UploadError as error:
        outcome = "refused: " + str(error).split(";")[0].split(":")[0][:70]
    results[path.stem] = {"bytes": len(raw), "seconds": round(time.perf_counter() - started, 3),
                          "extra_peak_mb": round(status_mb("VmHWM") - before, 1), "outcome": outcome}
print(json.dumps(results))
"""


def hostile_cases() -> dict[str, bytes]:
    import io

    from PIL import Image

    from tests.test_uploads import small_png

    image = Image.new("RGB", (3400, 3400), (255, 255, 255))
    image.paste((242, 205, 55), (400, 600, 3000, 2800))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return {"1 7000x5700 PNG": small_png(7000, 5700), "2 6300x6300 PNG": small_png(6300, 6300),
            "3 1x100000 PNG": small_png(1, 100_000), "4 1x1000000 PNG": small_png(1, 1_000_000),
            "5 3400x3400 PNG, the largest accepted": buffer.getvalue()}


def measure_uploads() -> dict:
    """Each case in order in one fresh process that imports only the upload module; a case's
    extra memory is its peak resident size above the peak before it."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for name, raw in hostile_cases().items():
            (Path(folder) / f"{name}.bin").write_bytes(raw)
        run = subprocess.run([sys.executable, "-c", SCRIPT, folder], cwd=ROOT, capture_output=True, text=True,
                             check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(measure_uploads(), indent=2))
