"""The optional dependencies and the one command that installs each: every "how do I get it"
message in ``autograd`` and ``nn`` comes from here.

Each dependency is installed through an extra of ``pyproject.toml`` (``pip install
"valuegrad[fast]"``), never by its own package name, so the pinned versions the extras name are
the ones users get. Double quotes work in POSIX shells and in Windows' ``cmd`` alike.
"""

from __future__ import annotations

__all__ = ["EXTRAS", "install_hint"]

EXTRAS: dict[str, str] = {
    "numpy": "fast",
    "torch": "torch",
    "sympy": "sympy",
    "matplotlib": "train",
    "tqdm": "train",
    "anywidget": "notebooks",
}
"""Optional dependency (its import name) -> the extra of ``pyproject.toml`` that installs it."""


def install_hint(dependency: str) -> str:
    """The command that installs an optional dependency, e.g. ``pip install "valuegrad[fast]"``.

    Args:
        dependency: its import name, a key of :data:`EXTRAS` (``'numpy'``, ``'torch'``, ...).

    Returns:
        The ``pip install`` command of the extra that brings it.

    Raises:
        ValueError: ``dependency`` is not an optional dependency of valuegrad.

    Example:
        >>> install_hint("numpy")
        'pip install "valuegrad[fast]"'
    """
    extra = EXTRAS.get(dependency)
    if extra is None:
        raise ValueError(f"{dependency!r} is not an optional dependency of valuegrad; expected one of "
                         f"{', '.join(EXTRAS)}")
    return f'pip install "valuegrad[{extra}]"'
