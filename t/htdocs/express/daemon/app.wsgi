# express.t --mode daemon: where and how the application runs.
from daemon_info import application  # noqa: F401
