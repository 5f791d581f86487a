"""`klantreis users create|list|delete`: who may log in to the dashboard."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from klantreis.present.cli.options import (
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_store,
    print_json,
)
from klantreis.present.web.auth import LOCALES, create_user, delete_user, list_users

users_app = typer.Typer(
    help="Dashboard users (log in at / of `klantreis serve`).", no_args_is_help=True
)


@users_app.command("create")
@friendly_errors
def create(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password: Annotated[
        str,
        typer.Option(
            "--password",
            envvar="KLANTREIS_USER_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 8 characters; asked for when not given.",
        ),
    ],
    locale: Annotated[
        str | None,
        typer.Option(
            "--locale", help=f"Interface language ({'/'.join(LOCALES)}); default: the browser's."
        ),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Create a dashboard user; the password is stored as a scrypt hash.

    Example: klantreis users create anna --locale nl
    """
    with open_store(store, create=True) as handle:
        user = create_user(handle, username, password, locale)
    console.print(f"created user [bold]{user.username}[/]", highlight=False)


@users_app.command("list")
@friendly_errors
def list_(store: StoreOption = None, json: JsonOption = False) -> None:
    """List dashboard users (name, language, created).

    Example: klantreis users list --json
    """
    with open_store(store) as handle:
        users = list_users(handle)
    if json:
        print_json([user.__dict__ for user in users])
        return
    table = Table("user", "language", "created")
    for user in users:
        table.add_row(user.username, user.locale or "", f"{user.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


@users_app.command("delete")
@friendly_errors
def delete(
    username: Annotated[str, typer.Argument(help="Login name.")],
    store: StoreOption = None,
) -> None:
    """Delete a dashboard user and end their sessions.

    Example: klantreis users delete anna
    """
    with open_store(store) as handle:
        delete_user(handle, username)
    console.print(f"deleted user [bold]{username}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
