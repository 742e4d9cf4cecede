"""The one error hierarchy of molgen.

Every error caused by what a user gave (a config, a data file, a model folder, a name) is a
:class:`MolgenError`; its message says what and where (file, row or line, column) and how to fix it. The CLI
prints these as one line and exits with status 2 (an ``OSError`` or running out of memory: 3; an interrupt: 130,
see ``molgen.cli.main``); any other exception is a bug and shows its traceback. Each class also derives from the built-in exception that code catching it before expects
(``ValueError``, ``FileNotFoundError``, ``KeyError``).
"""

from __future__ import annotations


class MolgenError(Exception):
    """Base class: a problem with the user's input, config, files or environment (not a bug in molgen)."""


class ConfigError(MolgenError, ValueError):
    """A config file, key or value that cannot be used; the message names the key and the valid values."""


class UnknownNameError(ConfigError, KeyError):
    """A name that is not in a registry (dataset, model, family, metric …); the message lists the valid names."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable.
        return str(self.args[0]) if self.args else ""


class InvalidInputError(MolgenError, ValueError):
    """Input data that cannot be used (unparseable SMILES or DNA, missing columns, bad labels); the message
    names the file, row or line and column."""


class DataSourceError(MolgenError, FileNotFoundError):
    """A file or dataset that cannot be found, downloaded, verified or written."""


class ModelFormatError(MolgenError, ValueError):
    """A model folder that cannot be loaded safely (missing files, pickles, corrupted weights, unknown format)."""


class TrainingDivergedError(MolgenError, ArithmeticError):
    """Training whose loss became NaN or infinite (a learning rate too high, extreme targets or features); the
    message names the epoch and what to change."""


class RemoteError(MolgenError):
    """A molgen server refused a request (``status``: the HTTP status, ``detail``: its message)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status
