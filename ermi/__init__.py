"""ERMI's shared core. ``ermi.load``, ``ermi.fit`` and ``ermi.compare`` are the notebook API (ermi/api.py), imported
on first use so that importing a core module never pulls in the domain packages."""

API = ("load", "fit", "compare")


def __getattr__(name):
    if name in API:
        from ermi import api

        return getattr(api, name)
    raise AttributeError(f"module 'ermi' has no attribute {name!r}")
