"""The AST path: GNU C to ISO C (``gnu_to_iso``), pycparser with the kernel's typedefs
(``pycparser_adapter``), the walk of its tree (``walk``) and the entry point (``analyse``)."""
