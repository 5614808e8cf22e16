"""The model classes a model file can name: ``nn.load`` finds the class to rebuild here.

A model file names its model's class in ``"architecture": {"type": ...}``. The classes declare
themselves (``nn.layers`` registers ``MLP`` with :func:`register_model`), as ``pickle`` finds a
class by its name; the file format (``nn.io``) reads this table and imports none of the modules
that define model classes. It is a module of its own, below both, because ``import nn`` loads
the classes but not the file format, which loads on first use.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["MODEL_CLASSES", "register_model"]

MODEL_CLASSES: dict[str, type] = {}
"""The registered model classes, by the name a file gives in ``"architecture": {"type": ...}``."""

C = TypeVar("C", bound=type)


def register_model(cls: C) -> C:
    """Register ``cls`` under its class name as a class a model file may name (a class decorator).

    ``nn.load(path)`` rebuilds a file's model only where the file format also knows that
    class's architecture fields (``MLP``'s: ``nin``, ``nouts``, ...); registering a class tells
    the format which class the name stands for, so that the format imports no class's module.

    Args:
        cls: the class.

    Returns:
        ``cls`` itself.

    Raises:
        ValueError: another class (not the same class of a reloaded module) is already
            registered under that name.
    """
    other = MODEL_CLASSES.get(cls.__name__)
    same = other is not None and (other.__module__, other.__qualname__) == (cls.__module__, cls.__qualname__)
    if other is not None and not same:  # the same class again is its module reloaded: it replaces it
        raise ValueError(f"a model class named {cls.__name__!r} is already registered "
                         f"({other.__module__}.{other.__qualname__}); model files name classes by name")
    MODEL_CLASSES[cls.__name__] = cls
    return cls
