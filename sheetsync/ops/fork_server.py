"""Imported only in multiprocessing's fork server, as the first module it preloads.

The fork server is a process of the run like the workers it starts. systemd and Kubernetes
stop a service by sending SIGTERM to every process of it: a fork server killed that way makes
every worker it started look dead to the parent (their exit codes come through it), while
they are still finishing their workbooks. So the fork server ignores SIGTERM, as
multiprocessing already has it ignore SIGINT; it still exits when the parent does.
"""

from __future__ import annotations

import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
