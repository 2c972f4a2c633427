"""Galen's shared core: version, settings and the error hierarchy.

Every layer (specialists, knowledge, tools, agent, ui, evals) may import from here; this package
imports none of them.
"""

__version__ = "0.1.0"
