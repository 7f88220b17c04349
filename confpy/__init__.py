"""confpy: a drop-in replacement for confd, in Python.

It keeps config files in sync with a key/value store (etcd, files, the environment)
and reloads the services that read them. The command line is ``confpy`` (see
``confpy.cli``); the Go template engine is ``confpy.gotemplate``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
