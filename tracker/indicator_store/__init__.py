"""The indicator store: counters of distinct people kept in the transaction of each change.

``keeping`` maintains it (hooks, ``touch``, ``apply``, ``rebuild``), ``facts`` says
what one person contributes, ``windows`` names the standard windows, ``reading``
answers a scope's figures from it, and ``cli`` verifies and rebuilds it. See
docs/performance.md, "The indicator store".
"""
