"""Configuration files: a TOML file of the user's, or one shipped with the package."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from ._checks import ConfigError
from ._sections import parse_config
from ._tree import RunConfig

__all__ = ["embedded_config", "load_config"]


def load_config(path, check_data: bool = True) -> RunConfig:
    """Read and check a TOML configuration file (``ConfigError`` on any problem).

    ``check_data``: the dataset folder of ``[data] path`` must exist (relative paths are taken
    from the configuration file's folder); False when only the other sections are used.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such configuration file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    cfg = parse_config(raw, base_dir=p.parent.resolve(), where=str(p))
    data = cfg.data_path
    if check_data and not data.is_dir():
        given = raw["data"]["path"]
        rel = "" if Path(given).is_absolute() else f" ({given!r} is taken from the configuration file's folder)"
        raise ConfigError(f"{p}: [data] path: expected a dataset folder; found "
                          f"{'a file' if data.exists() else 'no such folder'}: {data}{rel}")
    return dataclasses.replace(cfg, path=p, label=None)


def embedded_config(name: str, data_dir) -> RunConfig:
    """A configuration shipped with the package (``typology/resources/<name>.toml``) pointed at
    ``data_dir``: ``demo`` (the demo and the northern_towns experiment), ``russia_north_real``, ``russia_all_real``."""
    from importlib import resources

    text = resources.files("typology").joinpath(f"resources/{name}.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    raw["data"]["path"] = str(Path(data_dir).resolve())
    return parse_config(raw, where=f"embedded configuration {name}.toml")
