"""Packages of the public face that can be called as their namesake function.

``from emigre import calibrate`` must give one thing whatever was imported before: Python's import system sets
the attribute ``emigre.calibrate`` to the package ``emigre.calibrate`` as soon as anything imports it, so a
function of that name in ``emigre/__init__.py`` would be replaced. The package is therefore the public object,
and calling it calls its function: ``calibrate("russia-2022", budget=...)`` is
``emigre.calibrate.calibrate("russia-2022", budget=...)``.
"""

from __future__ import annotations

import sys
import types


class CallablePackage(types.ModuleType):
    """A package whose call is the call of its namesake function (``emigre.estimate(...)`` =
    ``emigre.estimate.estimate(...)``); everything else is the ordinary package."""

    def __call__(self, *args, **kwargs):
        """Call the package's namesake function."""
        return getattr(self, self.__name__.rpartition(".")[2])(*args, **kwargs)


def make_callable(name: str) -> None:
    """Make the already imported package ``name`` callable as its namesake function."""
    sys.modules[name].__class__ = CallablePackage
