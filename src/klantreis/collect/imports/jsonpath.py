"""Keys inside a JSON value, as a mapping names them (`via.channel`), for DuckDB."""

from __future__ import annotations


def json_path(path: str) -> str:
    """`via.channel` / `events.-1.timestamp` as a DuckDB JSON path (`$."via"."channel"`).

    Parts are object keys, whole numbers index arrays (negative from the end). The path is a
    literal value in the query, never SQL text.
    """
    parts = path.split(".")
    if not path or any(part == "" for part in parts):
        raise ValueError(f"bad path {path!r}: give keys separated by dots (via.channel)")
    out = "$"
    for part in parts:
        if part.lstrip("-").isdigit():
            index = int(part)
            out += f"[#{index}]" if index < 0 else f"[{index}]"
        else:
            out += '."' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return out
