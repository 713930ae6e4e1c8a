"""What the app's start does not import: numpy (~15 MB and ~0.1 s, the first row's and the memory's
budgets at 100,000 findings) comes only with the screens that need it, the trend chart and stored lists."""

from __future__ import annotations

import subprocess
import sys


def test_starting_the_app_does_not_import_numpy() -> None:
    code = (
        "import sys\n"
        "import iot_defender_tui.cli, iot_defender_tui.ui.app, iot_defender_tui.ui.panes.results\n"
        "print('numpy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
