"""``simsource daemon``: the warm worker servers of this user (simsource/experiment/daemon.py)."""

from __future__ import annotations

import click


@click.command("daemon")
@click.option("--stop", is_flag=True, help="End them (workers finish what they are running).")
def daemon_cmd(stop: bool) -> None:
    """List this user's simsource daemons, the warm worker servers that parallel commands share
    (Linux); with --stop, end them.

    While a daemon runs, a parallel command runs whole in a fork of it (nothing to import);
    SIMSOURCE_DELEGATE=0 keeps commands in their own process. Daemons exit by themselves after
    SIMSOURCE_DAEMON_IDLE seconds without a command (default 900); SIMSOURCE_DAEMON=0 switches
    them off."""
    from simsource.experiment import daemon

    if not daemon.enabled():
        click.echo("the simsource daemon is off here (SIMSOURCE_DAEMON=0, or not Linux)")
    found = daemon.running()
    if not found:
        click.echo("no simsource daemon runs")
        return
    for d in found:
        serves = "this code and environment" if d["current"] else "other code or environment"
        click.echo(f"pid {d['pid']:>7}  up {d['age_s'] / 60:6.1f} min  {d['rss_mb']:6.0f} MB  "
                   f"{d['workers']} busy (workers, commands)  {serves}")
    if stop:
        reached = daemon.stop([d["pid"] for d in found])
        click.echo(f"stopped {len(reached)} daemon(s)")
