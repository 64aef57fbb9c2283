# express.t --python-home: wsl_venv_marker is installed only in the test's
# virtualenv, so the launcher's test import passes only when it runs the
# virtualenv's python, and the daemon only when python-home= is its home.
import wsl_venv_marker  # noqa: F401

from daemon_info import application  # noqa: F401
