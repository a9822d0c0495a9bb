"""What cpp does: ``#if`` evaluation with C's integer semantics (``condition``), the token
path's directive handling (``directives``: active tokens, ``#define``, quoted includes), the
kernel headers' macros (``header_macros``), and cpp itself run against the stub kernel
(``cpp``) for the AST path."""
