"""Printing and rendering: the SymPy printers and notation, the Jinja2 environment, PDF compilation.

Domain objects call into this package; it never imports them (it sits just above
:mod:`symstride.core`).  See ARCHITECTURE.md for the layers.
"""

__all__: list[str] = []
