"""`klantreis keys create|list|revoke`: write keys for sending events, read keys for the API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from klantreis.collect.keys import create_key, list_keys, publish_keys, revoke_key
from klantreis.present.cli.options import (
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_store,
    print_json,
)
from klantreis.store import Store

keys_app = typer.Typer(
    help="Write keys (send events) and read keys (read API, dashboard data).",
    no_args_is_help=True,
)


def _publish(handle: Store, store: Path | None) -> None:
    """With `[store] kind = "lake"`: the write keys to the lake, where its running collectors
    read them (within seconds, no restart; `collect/keys.py`)."""
    from klantreis.config import StoreSettings, load_settings

    lake = load_settings(store).section(StoreSettings).lake
    if lake is not None:
        publish_keys(handle, lake)


@keys_app.command("create")
@friendly_errors
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. 'webshop'.")],
    read: Annotated[bool, typer.Option("--read", help="A read key instead of a write key.")] = (
        False
    ),
    store: StoreOption = None,
) -> None:
    """Create a key and print it alone on stdout; it is stored hashed and cannot be shown again.

    Example: KEY=$(klantreis keys create --name webshop)
    """
    with open_store(store, create=True) as handle:
        _, secret = create_key(handle, name, "read" if read else "write")
        _publish(handle, store)
    sys.stdout.write(secret + "\n")


@keys_app.command("list")
@friendly_errors
def list_(store: StoreOption = None, json: JsonOption = False) -> None:
    """List keys (id, name, kind, first characters, created, revoked); never the secrets.

    Example: klantreis keys list --json
    """
    with open_store(store) as handle:
        keys = list_keys(handle)
    if json:
        print_json([key.__dict__ for key in keys])
        return
    table = Table("id", "name", "kind", "key", "created", "revoked")
    for key in keys:
        table.add_row(
            key.key_id,
            key.name,
            key.kind,
            key.hint,
            f"{key.created_at:%Y-%m-%d %H:%M}",
            "" if key.revoked_at is None else f"{key.revoked_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@keys_app.command("revoke")
@friendly_errors
def revoke(
    key: Annotated[str, typer.Argument(help="Key id (from `keys list`) or name.")],
    store: StoreOption = None,
) -> None:
    """Revoke a key by id, or every active key with that name.

    Example: klantreis keys revoke webshop
    """
    with open_store(store) as handle:
        revoked = revoke_key(handle, key)
        _publish(handle, store)
    for item in revoked:
        console.print(f"revoked {item.kind} key {item.key_id} ({item.name})", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
