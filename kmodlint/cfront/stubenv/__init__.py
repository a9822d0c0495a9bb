"""Build kmodlint's stub kernel environment mechanically from a real kernel tree.

pycparser parses ISO C; kernel headers are GNU C through thousands of macros and are far too
big to parse per file. The AST path therefore preprocesses a driver against a *stub*
environment instead of the real headers:

- every real header path (``linux/module.h``, ``asm/io.h``, ...) resolves to a SHADOW file
  that holds only the header's ``#include`` lines (those outside branches known to be false)
  and the stubs of the macros it defines itself, so a file sees exactly the macros of the
  headers it transitively includes, as with the real kernel: ``free(a)`` of
  linux/decompress/mm.h cannot expand inside ``ops->free(p)`` of a file that never includes
  it. A macro a header defines and #undef's again is its own helper and is left out;
- every typedef name of the real headers is listed (pycparser only needs to know which
  identifiers are types; the AST path declares them ``typedef int u32;``-style);
- one prelude header, ``-include``-d before the file, neutralises GNU syntax
  (``__attribute__``, ``typeof``, ``__extension__``, ...) and includes the shadows of what
  Kbuild itself ``-include``'s (kconfig.h, compiler_types.h). Each macro is stubbed by the
  role its real body plays (one stub per name, the same in every shadow):

  ======== ============================================== ===============================
  class    real body looks like                           stub
  ======== ============================================== ===============================
  empty    attributes / annotations only                  the C keywords it kept (inline)
  loop     ``for (...)``, ``list_for_each... if () else`` ``for (;;)``
  decl     a declaration (``struct mutex name = ...``)    ``int __kmodlint_decl``
  fnhdr    a function header (``long name(args)``)        ``int __kmodlint_fn(void)``
  block    ``{ ... }`` (initialisers, blocks)             ``{ }``
  type     ``typeof(x)``, a type                          ``int`` / the type
  string   string literals                                ``""``
  numeric  integer arithmetic some ``#if`` tests          the real body, and the
           (a header's; --if-sources: a ``.c`` file's)    macros it names
  paste    token pasting helpers                          the real body
  asm      top-level ``asm(...)`` (BTF_ID)                ``__asm__("")`` (then dropped)
  braces   half a block (``do_each_pid_task(...) {``)     the unbalanced ``{``/``}``
  alias    the name of a function-like macro              the real body (``#define A B``)
  expr     anything else                                  ``0``
  ======== ============================================== ===============================

  Function-like stubs take ``(...)`` so any argument (a type, a statement, a bare
  declaration) is swallowed. Exports and section markers are hand-written so the AST path
  can see them after expansion: ``EXPORT_SYMBOL*(sym)`` becomes a declaration of
  ``__kmodlint_export`` whose initialiser carries the kind, the expanded symbol name and the
  namespace as strings, and ``__init``/``__exit``/``__initdata``/``__exitdata`` become
  marker identifiers that :func:`kmodlint.cfront.ast.gnu_to_iso.gnu_to_iso` turns into ISO C the
  parser keeps.

Header conditionals are evaluated against the kernel configuration when it is known
(``include/generated/autoconf.h`` or ``--config``), so the x86-64 branch of a macro wins.

Usage: ``python -m kmodlint.cfront.stubenv --from <kernel source or headers dir> [--from
<another dir, e.g. the -amd64 headers with generated/>] [--config .config] [--if-sources
<kernel source tree>] --out <dir>``.
The output directory receives ``prelude.h``, ``headers.txt`` (every header path on a line of
its own, followed by its shadow's directives, lines starting with ``#``) and ``typedefs.txt``
(every typedef name, one a line; the AST path declares them to the parser directly instead of
making it parse 1,500 ``typedef int x;`` lines per file).

The generator reads the headers (``read_headers``, with ``conditions`` for their ``#if``
lines), classifies each macro by its body (``classify``) and writes the environment
(``write``). The data files beside this module are the environment kmodlint ships.
"""
