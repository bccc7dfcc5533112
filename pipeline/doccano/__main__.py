"""`python -m pipeline.doccano start|stop|status`: the local server (`make doccano`)."""
from __future__ import annotations

import typer
from rich.console import Console

from .config import DoccanoConfig
from .server import ServerError, healthy, running_pid, server_url
from .server import start as start_server
from .server import stop as stop_server

app = typer.Typer(add_completion=False, no_args_is_help=True, help="The local doccano server (settings: DOCCANO_* variables).")
console = Console(stderr=True)


@app.command()
def start() -> None:
    """Start doccano on 127.0.0.1 (installing it on first use) and print its URL."""
    cfg = DoccanoConfig.from_env()
    try:
        url = start_server(cfg, log=console.print)
    except ServerError as err:
        console.print(f"[bold red]error:[/] {err}")
        raise typer.Exit(1) from None
    print(f"doccano: {url}/  (user {cfg.admin}; data in {cfg.data_dir}; stop with `make doccano-stop`)")


@app.command()
def stop() -> None:
    """Stop the server `start` started (the PID in the data folder), nothing else."""
    stop_server(DoccanoConfig.from_env(), log=print)


@app.command()
def status() -> None:
    """Say whether the server runs and answers."""
    cfg = DoccanoConfig.from_env()
    pid = running_pid(cfg)
    if pid is None:
        print("doccano is not running")
        raise typer.Exit(1)
    url = server_url(cfg)
    print(f"doccano pid {pid} at {url}/: {'answers' if healthy(url) else 'does not answer'}")


if __name__ == "__main__":
    app()
