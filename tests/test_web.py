"""The dashboard's browser code: every component's script, as the browser gets it, is valid
JavaScript, and no Python module builds JavaScript in a string."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from common.static_files import STATIC_FOLDER
from explorer.web_assets import WEB, web_file

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {  # each component's script: the files it is made of, in order (explorer/picker.py, hover.py, live.py)
    "face grid": ("face_lists.js", "face_grid.js"),
    "surprise reel": ("face_lists.js", "surprise_reel.js"),
    "map hover": ("face_lists.js", "map_hover.js"),
    "live map face": ("live_runtime.js", "live_map.js"),
    "live controls": ("live_runtime.js", "live_controls.js"),
}


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.parametrize("component", sorted(SCRIPTS))
def test_each_components_script_is_valid_javascript(component, tmp_path):
    script = tmp_path / "component.mjs"  # a module, as st.components.v2 loads it
    script.write_text("".join(web_file(name) for name in SCRIPTS[component]))
    checked = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.parametrize("name, kind", [("runtime.js", "mjs"), ("worker.js", "js")])
def test_the_served_live_scripts_are_valid_javascript(name, kind, tmp_path):
    script = tmp_path / f"script.{kind}"  # the runtime is a module, the worker a classic script
    script.write_text((STATIC_FOLDER / "live" / name).read_text())
    checked = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_every_script_file_is_used_and_no_python_module_holds_javascript():
    used = {name for names in SCRIPTS.values() for name in names}
    assert {path.name for path in WEB.glob("*.js")} == used
    javascript = re.compile(r"export default function|setInterval\(|addEventListener\(|=>\s*\{")
    for module in (ROOT / "explorer").rglob("*.py"):
        assert not javascript.search(module.read_text()), f"{module.relative_to(ROOT)} holds JavaScript"
