"""Imported by the worker pool's fork server only, last of its preload
(:data:`simsource.experiment.pool.PRELOAD`): the server's own exit skips the interpreter's final
garbage collections.

The fork server exits when the process that started it does. With numpy, pydantic, the model
and ``scipy.stats`` imported, its final collections took 0.18–0.28 s of a core after every
parallel command had ended: a script reading the command's output through a pipe waited for
them (the server holds the command's stdout and stderr), and the next command shared the
machine with them. ``gc.freeze`` at exit, as the command line does for itself
(:func:`simsource.cli.exit_quickly`), takes that to about 0.03 s; the server has no file open
and nothing to free that the operating system does not. Workers are forks of the server and end
with ``os._exit``, so the handler never runs in them.
"""

from __future__ import annotations

import atexit
import gc

atexit.register(gc.freeze)
