"""Runs every benchmark in this folder, one after another."""

import subprocess
import sys
from pathlib import Path

for script in sorted(Path(__file__).parent.glob("*.py")):
    if script.name != "run.py" and not script.name.startswith(("_", "big_")):
        print(f"== {script.stem}", flush=True)
        subprocess.run([sys.executable, str(script)], check=False)
