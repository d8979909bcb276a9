"""``simsource app``: start the teaching web page (Streamlit, optional extra ``app``)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import click

from simsource.cli import UsageProblem
from simsource.cli.params import posterior_option

INSTALL_HINT = "streamlit is not installed: pip install 'simsource[app]'"


def page_path() -> Path:
    """The Streamlit script of the page (``simsource/app/serve.py``, which runs
    :mod:`simsource.app.page`)."""
    return Path(__file__).resolve().parents[1] / "app" / "serve.py"


def streamlit_command(host: str, port: int) -> list[str]:
    """The command that serves the page: local only by default, headless, no usage statistics."""
    return [sys.executable, "-m", "streamlit", "run", str(page_path()),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "minimal", "--server.fileWatcherType", "none"]


@click.command("app")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="Port to serve the page on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind to (127.0.0.1: this computer only).")
@posterior_option
def app_cmd(port: int, host: str, posterior_dir: Path | None) -> None:
    """Start the teaching what-if page (Streamlit) on http://HOST:PORT; Ctrl-C stops it."""
    if importlib.util.find_spec("streamlit") is None:
        raise UsageProblem(INSTALL_HINT)
    if posterior_dir is not None:
        from simsource.experiment.posterior import POSTERIOR_ENV, Posterior

        Posterior.load(posterior_dir)  # a bad folder is one line here, not an error on the page
        os.environ[POSTERIOR_ENV] = str(posterior_dir.resolve())
    click.echo(f"simsource app: http://{host}:{port}  (Ctrl-C to stop)", err=True)
    cmd = streamlit_command(host, port)
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(cmd[0], cmd)  # streamlit takes over this process: signals reach it directly
    proc = subprocess.Popen(cmd)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        code = 0
    sys.exit(code)
