"""The AST path of the C front end on real inputs: corpus drivers and small fixtures."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from kmodlint.cfront.ast.analyse import analyse_ast
from kmodlint.cfront.ast.pycparser_adapter import parse_c
from kmodlint.cfront.ast.walk import AstResult, ctype_of
from kmodlint.cfront.preprocess.cpp import preprocess, stub_env_dir
from kmodlint.cfront.preprocess.directives import lex
from kmodlint.cfront.preprocess.header_macros import HeaderMacros
from kmodlint.cfront.stubenv import conditions, write
from kmodlint.cfront.tokens.scan import scan

pytestmark = pytest.mark.skipif(shutil.which("cpp") is None, reason="needs cpp")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIX = Path(__file__).resolve().parent / "fixtures" / "cfront"
DEFINES = {"CONFIG_MODULES": "1", "CONFIG_PM_SLEEP": "1"}


def run(path: Path, **kw: object) -> AstResult:
    return analyse_ast(str(path), defines=DEFINES, include_dirs=[], **kw)  # type: ignore[arg-type]


def defs(res: AstResult) -> dict:
    return {d.name: d for d in res.definitions}


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A private cache directory: the stub tree is materialised there, not in ~/.cache."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


def test_every_corpus_source_parses() -> None:
    # Files annotated unparsable-source are the corpus's deliberate failures.
    sources = sorted(p for p in CORPUS.glob("*/*.c") if "unparsable-source" not in p.read_text())
    assert len(sources) > 30
    failed = {str(p): r.error for p in sources if not (r := run(p)).ok}
    assert failed == {}


def test_types_sections_and_static_from_a_corpus_driver() -> None:
    res = run(CORPUS / "km605-param-type-mismatch" / "modparamtype.c")
    assert res.ok, res.error
    d = defs(res)
    assert d["verbose"].ctype == "bool" and d["verbose"].is_static
    assert d["level"].ctype == "int"
    assert d["limits"].ctype == "unsigned long [4]"
    assert d["tag"].ctype == "char *"
    init = d["modparamtype_init"]
    assert (init.is_function, init.is_static, init.section, init.ctype) == (
        True,
        True,
        "init",
        "int (void)",
    )
    assert d["modparamtype_exit"].section == "exit"
    assert all(x.via == "ast" for x in res.definitions)
    path = str(CORPUS / "km605-param-type-mismatch" / "modparamtype.c")
    assert (init.loc.path, init.loc.line, init.loc.col) == (path, 16, 19)


def test_extern_and_definition_types_compare() -> None:
    prov = run(CORPUS / "km303-extern-mismatch" / "modxprov.c")
    user = run(CORPUS / "km303-extern-mismatch" / "modxuser.c")
    assert prov.ok and user.ok
    definition = defs(prov)["xprov_register"]
    (extern,) = [e for e in user.externs if e.name == "xprov_register"]
    assert extern.explicit_extern and extern.is_function
    assert definition.ctype == "int (int, unsigned int)"
    assert extern.ctype == "long (long)"
    assert extern.ctype != definition.ctype
    assert extern.loc.line == 5


def test_prototype_in_local_header_is_an_extern_with_the_definitions_type() -> None:
    exp = run(CORPUS / "km501-missing-namespace-import" / "modnsexp.c")
    user = run(CORPUS / "km501-missing-namespace-import" / "modnsuser.c")
    (proto,) = [e for e in user.externs if e.name == "nsexp_get"]
    assert not proto.explicit_extern
    assert proto.loc.path.endswith("modnsexp.h") and proto.loc.line == 6
    assert proto.ctype == defs(exp)["nsexp_get"].ctype == "int (void)"
    # defined in the file: not an extern there
    assert not [e for e in exp.externs if e.name == "nsexp_get"]
    (export,) = exp.exports
    assert (export.symbol, export.kind, export.namespace) == (
        "nsexp_get",
        "EXPORT_SYMBOL_GPL",
        "MYNS",
    )


def test_macro_generated_exports_namespaces_and_sections() -> None:
    res = run(FIX / "macro_exports.c")
    assert res.ok, res.error
    exports = {e.symbol: e for e in res.exports}
    assert set(exports) == {"alpha_get", "beta_value", "counter"}
    # built by a local macro pasting the name: only the AST path can see it
    assert exports["alpha_get"].kind == "EXPORT_SYMBOL_GPL"
    assert exports["alpha_get"].namespace == "FIXNS"
    assert (exports["alpha_get"].loc.line, exports["alpha_get"].loc.col) == (15, 1)
    assert exports["beta_value"].kind == "EXPORT_SYMBOL"
    assert exports["beta_value"].namespace is None
    assert exports["beta_value"].loc.line == 23
    # 6.13+ string form of the namespace
    assert exports["counter"].namespace == "STRNS"
    d = defs(res)
    assert d["alpha_get"].ctype == "int (void)" and not d["alpha_get"].is_static
    assert d["beta_value"].ctype == "long (int)"
    assert d["counter"].ctype == "unsigned int" and not d["counter"].is_function
    assert d["boot_flag"].section == "init" and not d["boot_flag"].is_function
    assert d["name"].ctype == "char *"
    assert d["walk"].ctype == "int (struct list_head *)"
    assert not any(n.startswith("__kmodlint") for n in d)
    externs = {e.name: e for e in res.externs}
    assert externs["shared_limit"].ctype == "unsigned long"
    assert externs["shared_limit"].explicit_extern
    assert externs["helper_value"].ctype == "int (int)"


def test_default_symbol_namespace() -> None:
    res = analyse_ast(
        str(FIX / "macro_exports.c"),
        defines={**DEFINES, "DEFAULT_SYMBOL_NAMESPACE": "DEFNS"},
        include_dirs=[],
    )
    exports = {e.symbol: e.namespace for e in res.exports}
    assert exports == {"alpha_get": "FIXNS", "beta_value": "DEFNS", "counter": "STRNS"}


def test_bad_file_gives_one_line_reason() -> None:
    res = run(FIX / "broken.c")
    assert not res.ok
    assert res.error is not None and "\n" not in res.error
    assert res.error.startswith("pycparser: ") and "broken.c:6:" in res.error
    assert res.definitions == [] and res.exports == []


def test_unreadable_file_is_not_an_exception(tmp_path: Path) -> None:
    res = run(tmp_path / "does-not-exist.c")
    assert not res.ok and res.error and res.error.startswith("cpp: ")


def test_missing_local_header_becomes_an_empty_stand_in(tmp_path: Path) -> None:
    src = tmp_path / "tree" / "missing_include.c"
    src.parent.mkdir()
    shutil.copy(FIX / "missing_include.c", src)
    before = sorted(p.name for p in src.parent.iterdir())
    res = run(src)
    assert res.ok, res.error
    assert [d.name for d in res.definitions] == ["uses_missing"]
    # nothing written into the analysed tree
    assert sorted(p.name for p in src.parent.iterdir()) == before


def test_missing_header_with_a_shipped_copy_is_read_from_it(tmp_path: Path) -> None:
    """drivers/scsi/aic7xxx includes "aic7xxx_reg.h", which Kbuild copies from
    aic7xxx_reg.h_shipped ($(obj)/%: $(src)/%_shipped): both paths read the copy."""
    from kmodlint.cfront.frontend import SourceJob, analyse_source

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "demo_reg.h_shipped").write_text(
        "typedef struct { int value; } demo_reg_entry_t;\n#define DEMO_PRETTY 1\n"
    )
    src = tree / "demo.c"
    src.write_text(
        '#include "demo_reg.h"\n'
        "int demo_print(const demo_reg_entry_t *table) { return table->value; }\n"
        "#if DEMO_PRETTY\nEXPORT_SYMBOL(demo_print);\n#endif\n"
    )
    res = run(src)
    assert res.ok, res.error
    assert [d.name for d in res.definitions] == ["demo_print"]
    extraction = analyse_source(SourceJob(str(src), (), "", (), False, None))
    assert [e.symbol for e in extraction.facts.exports] == ["demo_print"]
    assert sorted(p.name for p in tree.iterdir()) == ["demo.c", "demo_reg.h_shipped"]


def test_ctype_normalisation() -> None:
    from pycparser import c_parser

    ast = c_parser.CParser().parse(
        "int f(int a, int b); extern int g(int, int); long h(int x);"
        "unsigned u; long int l; int p(); static inline int q(const int x) { return x; }"
        "void (*cb)(int code, void *data);"
    )
    types = [ctype_of(e.type if hasattr(e, "type") else e.decl.type) for e in ast.ext]
    assert types[0] == types[1] == "int (int, int)"
    assert types[2] == "long (int)"
    assert types[3] == "unsigned int"
    assert types[4] == "long"
    assert types[5] == "int (void)"
    assert types[6] == "int (int)"
    assert types[7] == "void (*)(int, void *)"


def test_preprocess_uses_linemarkers_into_the_original_file() -> None:
    path = str(CORPUS / "km205-near-miss-described" / "moddesc.c")
    text = preprocess(path, defines=DEFINES, include_dirs=[])
    assert f'"{path}"' in text
    env = stub_env_dir()
    shadow = Path(env, "include", "linux", "module.h").read_text()
    # a shadow: the real header's includes and its own macros' stubs, nothing else
    assert "#include <linux/list.h>" in shadow
    assert "#define MODULE_LICENSE(...)" in shadow
    assert "static inline" not in shadow and "struct module {" not in shadow


def test_stubgen_from_a_small_tree(tmp_path: Path) -> None:
    inc = tmp_path / "k" / "include" / "linux"
    inc.mkdir(parents=True)
    (inc / "demo.h").write_text(
        "#include <linux/other.h>\n"
        '#include "missing_everywhere.h"\n'
        "typedef unsigned int demo_t;\n"
        "typedef int (*demo_fn)(int (*cleanup)(void));\n"
        "typedef void (demo_end_io_t)(int);\n"
        "#define demo_for_each(pos, head) for (pos = (head); pos; pos = pos->next)\n"
        "#define DEMO_DECLARE(name) struct demo name = { 0 }\n"
        "#define __demo_attr __attribute__((unused))\n"
        "#define demo_inline inline __demo_attr\n"
        '#define DEMO_STR "demo"\n'
        "#define DEMO_OPS(a) .open = (a),\n"
        "#define DEMO_PASS(args...) args\n"
        "#define DEMO_ALIAS DEMO_DECLARE\n"
        "#define __demo_helper(x) x\n"
        "#undef __demo_helper\n"
        "#ifdef CONFIG_DEMO_OFF\n#define demo_twice(x) for (;;)\n#else\n"
        "#define demo_twice(x) ((x) * 2)\n#endif\n"
    )
    (inc / "other.h").write_text("#define demo_other(x) ((x) + 1)\n")
    cfg = tmp_path / "config"
    cfg.write_text("CONFIG_DEMO_ON=y\n")
    out = tmp_path / "env"
    write.generate(str(tmp_path / "k"), str(out), config=str(cfg))
    text = (out / "headers.txt").read_text()
    paths = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert "linux/demo.h" in paths and "linux/other.h" in paths
    demo = text.split("linux/demo.h\n", 1)[1].split("\nlinux/", 1)[0]
    assert (out / "typedefs.txt").read_text().split() == ["demo_end_io_t", "demo_fn", "demo_t"]
    # the shadow keeps the includes that resolve, then its own stubs
    assert demo.startswith("#include <linux/other.h>\n")
    assert "missing_everywhere" not in demo
    assert "#define demo_for_each(...) for (;;)" in demo
    assert "#define DEMO_DECLARE(...) int __kmodlint_decl" in demo
    assert "#define demo_inline inline" in demo
    assert '#define DEMO_STR ""' in demo
    assert "#define DEMO_OPS(...) .__kmodlint = 0," in demo
    assert "#define DEMO_PASS(args...) args" in demo
    assert "#define DEMO_ALIAS DEMO_DECLARE" in demo
    assert "__demo_helper" not in demo  # #define'd and #undef'd: the header's own helper
    assert "demo_other" not in demo  # other.h's macro lives in other.h's shadow
    # CONFIG_DEMO_OFF is not set: the #else branch is the one kept
    assert "#define demo_twice(x) ( ( x ) * 2 )" in demo
    assert "#define" not in (out / "prelude.h").read_text().split("Kbuild -include")[1]


def test_macros_come_from_the_included_headers_only(tmp_path: Path) -> None:
    """A function-like macro of a header the file does not include (``free(a)`` of
    linux/decompress/mm.h) must not expand inside the file's own code."""
    src = tmp_path / "clash.c"
    src.write_text(
        "#include <linux/module.h>\n"
        "struct ops { void (*free)(void *p); };\n"
        "static void PRIV(struct ops *o) { o->free(o); }\n"
        "static int n;\n"
        "static LIST_HEAD(items);\n"
        'MODULE_LICENSE("GPL");\n'
    )
    res = run(src)
    assert res.ok, res.error
    assert {"PRIV", "n"} <= set(defs(res))


def test_own_macro_wins_over_a_header_stub(tmp_path: Path) -> None:
    """``#define pr_fmt`` before the includes is the file's, as printk.h's #ifndef lets it."""
    src = tmp_path / "fmt.c"
    src.write_text(
        '#define pr_fmt(fmt) "fmt: " fmt\n'
        "#include <linux/printk.h>\n"
        'static const char *msg = pr_fmt("x");\n'
    )
    text = preprocess(str(src), defines=DEFINES, include_dirs=[])
    assert '"fmt: " "x"' in text


def test_fragment_without_includes_falls_back_to_every_stub(tmp_path: Path) -> None:
    """A .c fragment #include'd by another file uses macros it never includes."""
    src = tmp_path / "frag.c"
    src.write_text(
        "static int count(struct list_head *head)\n"
        "{\n"
        "\tstruct list_head *p;\n"
        "\tint n = 0;\n"
        "\tlist_for_each(p, head)\n"
        "\t\tn++;\n"
        "\treturn n;\n"
        "}\n"
    )
    res = run(src)
    assert res.ok, res.error
    assert defs(res)["count"].ctype == "int (struct list_head *)"


def test_parse_error_reason_carries_path_line_and_column(tmp_path: Path) -> None:
    src = tmp_path / "bad.c"
    src.write_text("#include <linux/module.h>\nint ok;\nint broken = ;\n")
    res = run(src)
    assert not res.ok and res.error is not None
    assert f"{src}:3:" in res.error and "\n" not in res.error


def test_relative_include_climbing_out_of_a_makefile_dir(tmp_path: Path) -> None:
    """``#include "../../x.h"`` resolved against a deeper -I the Makefile would add."""
    top = tmp_path / "drv"
    (top / "sub" / "deeper").mkdir(parents=True)
    (top / "shared.h").write_text("int shared_value(void);\n")
    (top / "sub" / "user.c").write_text('#include "../../shared.h"\nint x;\n')
    res = run(top / "sub" / "user.c")
    assert res.ok, res.error
    assert [e.name for e in res.externs] == ["shared_value"]


def test_stubgen_conditions_on_values_the_headers_define(tmp_path: Path) -> None:
    """``#if WIDTH == 64`` / ``#elif WIDTH == 32`` with WIDTH unknown keep both branches (acpi
    actypes.h's address typedefs); a value every header defines alike is evaluated
    (``#if GCC_VERSION >= 80000``); ``_Pragma`` bodies leave nothing at file scope."""
    inc = tmp_path / "k" / "include" / "linux"
    inc.mkdir(parents=True)
    (inc / "width.h").write_text(
        "#if DEMO_WIDTH == 64\ntypedef unsigned long demo_addr;\n"
        "#elif DEMO_WIDTH == 32\ntypedef unsigned int demo_addr32;\n"
        "#else\n#error unknown width\n#endif\n"
    )
    (inc / "gcc.h").write_text(
        "#define DEMO_GCC (__GNUC__ * 10000 + __GNUC_MINOR__ * 100)\n"
        "#define demo_diag(s) _Pragma(#s)\n"
        "#if DEMO_GCC >= 80000\n#define demo_diag_8(s) demo_diag(s)\n"
        "#else\n#define demo_diag_8(s) for (;;)\n#endif\n"
    )
    out = tmp_path / "env"
    write.generate(str(tmp_path / "k"), str(out))
    typedefs = (out / "typedefs.txt").read_text().split()
    assert {"demo_addr", "demo_addr32"} <= set(typedefs)
    text = (out / "headers.txt").read_text()
    assert "#define demo_diag(...)\n" in text
    assert "#define demo_diag_8(...)\n" in text
    e = conditions.CondEvaluator(None, {"DEMO_W": ["64"]})
    assert e.evaluate("DEMO_UNKNOWN == 64") is None
    assert e.evaluate("DEMO_W == 64") is True
    assert e.evaluate("DEMO_W == 32") is False
    assert e.evaluate("defined(__x86_64__) || DEMO_UNKNOWN > 3") is True


def test_pragma_macros_at_file_scope(tmp_path: Path) -> None:
    """``__diag_push(); __diag_ignore_all(...)`` around kfuncs (net/bpf/test_run.c)."""
    src = tmp_path / "kfuncs.c"
    src.write_text(
        "#include <linux/module.h>\n"
        "#include <linux/compiler.h>\n"
        "__diag_push();\n"
        '__diag_ignore_all("-Wmissing-prototypes",\n'
        '\t\t  "Global functions as their definitions will be in vmlinux BTF");\n'
        "noinline int bpf_demo_kfunc(int x)\n{\n\treturn x + 1;\n}\n"
        "__diag_pop();\n"
    )
    res = run(src)
    assert res.ok, res.error
    assert defs(res)["bpf_demo_kfunc"].ctype == "int (int)"


def test_parser_without_seeding_declares_the_typedefs_as_text() -> None:
    """A pycparser whose ``parse`` does not reset the scope stack the way 3.0 does gets the
    kernel typedefs as ``typedef int x;`` text: the same AST either way."""
    from kmodlint.cfront.ast import pycparser_adapter

    text = '# 1 "seed.c"\nu32 counter;\nstatic u8 f(u32 v) { return v; }\n'
    seeded = pycparser_adapter.parse_c(text, "seed.c", frozenset({"u32", "u8"}))
    old = pycparser_adapter._KernelParser._seed_works
    pycparser_adapter._KernelParser._seed_works = False
    try:
        plain = pycparser_adapter.parse_c(text, "seed.c", frozenset({"u32", "u8"}))
    finally:
        pycparser_adapter._KernelParser._seed_works = old
    names = [e.name if hasattr(e, "name") else e.decl.name for e in plain.ext]
    assert names[-2:] == ["counter", "f"]
    assert ctype_of(plain.ext[-1].decl.type) == ctype_of(seeded.ext[-1].decl.type) == "u8 (u32)"
    assert plain.ext[-1].decl.coord.line == seeded.ext[-1].decl.coord.line == 2


def test_enum_typed_variables_keep_their_type() -> None:
    """`static enum s v;` has the type `enum s`: under pycparser 3.12 (whose Enum takes a C23
    underlying type) rebuilding the Enum node raised, and the type was silently lost."""
    tree = parse_c("enum s { A, B };\nstatic enum s v = A;\nenum { C } anon;\n", "e.c")
    assert ctype_of(tree.ext[1].type) == "enum s"
    assert ctype_of(tree.ext[2].type).startswith("enum {")


def test_stubgen_attribute_macros_and_asm_macros(tmp_path: Path) -> None:
    """``typedef struct x call_single_data_t __aligned(...)`` declares call_single_data_t
    (linux/smp.h); ``BTF_ID_LIST(name) BTF_ID(prefix, type)`` is a declaration, not a
    function header (linux/btf_ids.h)."""
    inc = tmp_path / "k" / "include" / "linux"
    inc.mkdir(parents=True)
    (inc / "demo.h").write_text(
        "#define __demo_aligned(x) __attribute__((__aligned__(x)))\n"
        "typedef struct __demo_csd demo_csd_t\n\t__demo_aligned(sizeof(struct __demo_csd));\n"
        '#define DEMO_BTF_ID(prefix, name) asm(".globl " #prefix #name)\n'
        "#define DEMO_ID_LIST(name) DEMO_BTF_ID(list, name) extern unsigned int name[];\n"
        "#define DEMO_ID_LIST_SINGLE(name, prefix, type) \\\n"
        "\tDEMO_ID_LIST(name) DEMO_BTF_ID(prefix, type)\n"
        "#define demo_assert_ctx(e)\n"
        "#define demo_for_each_sibling(s, e) \\\n"
        "\tdemo_assert_ctx(e); if ((e)->leader == (e)) for (s = (e)->first; s; s = s->next)\n"
        "#define demo_ifdebug(fac) if (0)\n"
    )
    out = tmp_path / "env"
    write.generate(str(tmp_path / "k"), str(out))
    assert "demo_csd_t" in (out / "typedefs.txt").read_text().split()
    text = (out / "headers.txt").read_text()
    assert "#define DEMO_ID_LIST_SINGLE(...) int __kmodlint_decl;" in text
    # an annotation statement, then a loop (linux/perf_event.h's for_each_sibling_event)
    assert "#define demo_for_each_sibling(...) for (;;)" in text
    # ``if (cond)`` whose statement follows the invocation (linux/sunrpc/debug.h's ifdebug)
    assert "#define demo_ifdebug(...) for (;;)" in text


def test_gnu_designator_without_equals(tmp_path: Path) -> None:
    """``[INDEX] { ... }`` in an initialiser (drivers/usb/gadget/function/u_audio.c)."""
    src = tmp_path / "desig.c"
    src.write_text(
        "#include <linux/module.h>\n"
        "enum { CTRL_A, CTRL_B };\n"
        "struct ctl { const char *name; int v; };\n"
        "static struct ctl controls[] = {\n"
        '\t[CTRL_A] { .name = "a", .v = 1 },\n'
        '\t[CTRL_B] = { .name = "b" },\n'
        "};\n"
        "static int table[4] = { [0] 1, [2] 3 };\n"
    )
    res = run(src)
    assert res.ok, res.error
    assert defs(res)["controls"].ctype == "struct ctl []"
    assert defs(res)["table"].ctype == "int [4]"


def test_error_directive_from_a_value_the_stubs_leave_undefined(tmp_path: Path) -> None:
    """``#if PIPE_ISOCHRONOUS != 0 ... #error`` (drivers/usb/c67x00/c67x00-hcd.h): the
    stub kernel leaves numeric register values undefined, the #if reads 0 and #error fires;
    cpp's output is complete all the same. A missing header stays an error of its own."""
    src = tmp_path / "pipes.c"
    src.write_text(
        "#include <linux/module.h>\n"
        "#if DEMO_PIPE_INTERRUPT != 1\n"
        '#error "this code presumes DEMO_PIPE_INTERRUPT == 1"\n'
        "#endif\n"
        "int pipes_init(void) { return 0; }\n"
        "EXPORT_SYMBOL_GPL(pipes_init);\n"
    )
    res = run(src)
    assert res.ok, res.error
    assert [e.symbol for e in res.exports] == ["pipes_init"]
    assert defs(res)["pipes_init"].ctype == "int (void)"


def test_macros_of_other_configurations_only_in_the_fallback(tmp_path: Path) -> None:
    """A driver for another platform uses a loop macro this configuration never defines
    (linux/of.h's for_each_property_of_node needs CONFIG_OF): the union fallback has it;
    no shadow does."""
    inc = tmp_path / "k" / "include" / "linux"
    inc.mkdir(parents=True)
    (inc / "demo.h").write_text(
        "#ifdef CONFIG_DEMO_OF\n"
        "#define demo_for_each_prop(dn, pp) for (pp = dn->props; pp; pp = pp->next)\n"
        "#define demo_call(x) demo_real(x)\n"
        "#endif\n"
    )
    cfg = tmp_path / "config"
    cfg.write_text("CONFIG_DEMO_ON=y\n")
    out = tmp_path / "env"
    write.generate(str(tmp_path / "k"), str(out), config=str(cfg))
    shadows, _, elsewhere = (out / "headers.txt").read_text().partition("\n?elsewhere\n")
    assert "demo_for_each_prop" not in shadows
    # only what changes the statement's shape: a call parses as it is
    assert elsewhere == "#define demo_for_each_prop(...) for (;;)\n"

    src = tmp_path / "ofdrv.c"
    src.write_text(
        "#include <linux/module.h>\n"
        "#include <linux/of.h>\n"
        "static int count_props(struct device_node *np)\n"
        "{\n"
        "\tstruct property *pp;\n"
        "\tint n = 0;\n"
        "\tfor_each_property_of_node(np, pp)\n"
        "\t\tn++;\n"
        "\treturn n;\n"
        "}\n"
    )
    res = run(src)
    assert res.ok, res.error
    assert defs(res)["count_props"].ctype == "int (struct device_node *)"


def test_empty_compound_literals(tmp_path: Path) -> None:
    """``(unsigned[n]) { }`` in an initialiser (drivers/pinctrl/mvebu/pinctrl-mvebu.h) and
    ``*p = (struct x){ }``; empty blocks of functions and statements stay blocks."""
    src = tmp_path / "lit.c"
    src.write_text(
        "#include <linux/module.h>\n"
        "struct ctrl { const char *name; unsigned *pins; };\n"
        "static struct ctrl controls[] = {\n"
        '\t{ .name = "a", .pins = (unsigned[4]) { }, },\n'
        "};\n"
        "struct state { int a, b; };\n"
        "static void reset(struct state *s, int x)\n{\n"
        "\tif (x) { }\n"
        "\t*s = (struct state){ };\n"
        "}\n"
        "static void nothing(void) { }\n"
    )
    res = run(src)
    assert res.ok, res.error
    d = defs(res)
    assert d["controls"].ctype == "struct ctrl []"
    assert d["reset"].ctype == "void (struct state *, int)"
    assert d["nothing"].ctype == "void (void)"


def test_member_of_a_statement_expression(tmp_path: Path) -> None:
    """``FIELD16(mask).bit_mask`` where FIELD16 is ``({ ...; (struct f16) { ... }; })``
    (drivers/net/wireless/ralink/rt2x00/rt2x00reg.h)."""
    src = tmp_path / "field.c"
    src.write_text(
        "#include <linux/module.h>\n"
        "struct f16 { unsigned short bit_offset, bit_mask; };\n"
        "#define FIELD16(m) ({ (struct f16) { 0, (m) }; })\n"
        "unsigned short key_mask(void)\n{\n"
        "\treturn FIELD16(0x1e00).bit_mask;\n"
        "}\n"
    )
    res = run(src)
    assert res.ok, res.error
    assert defs(res)["key_mask"].ctype == "unsigned short (void)"


def test_numeric_macros_a_source_file_tests_keep_their_values(tmp_path: Path) -> None:
    """sound/core/pcm_native.c exports snd_pcm_lib_mmap_iomem under
    `#if SNDRV_PCM_INFO_MMAP_IOMEM`, an alias (in <sound/pcm.h>) of a number in another
    header: only a `.c` file tests it, so --if-sources must keep it and what it stands for;
    numbers nothing tests stay out of the environment."""
    inc = tmp_path / "k" / "include" / "sound"
    inc.mkdir(parents=True)
    (inc / "asound.h").write_text("#define DEMO_INFO_MMAP 0x00000001 /* mmap */\n")
    (inc / "pcm.h").write_text(
        "#include <sound/asound.h>\n#define DEMO_INFO_MMAP_IOMEM DEMO_INFO_MMAP\n"
        "#define DEMO_UNTESTED 7\n"
    )
    src = tmp_path / "src" / "sound" / "core"
    src.mkdir(parents=True)
    (src / "pcm_native.c").write_text(
        "#include <sound/pcm.h>\n#if DEMO_INFO_MMAP_IOMEM && \\\n  1\nint x;\n#endif\n"
    )
    alone = tmp_path / "alone"
    write.generate(str(tmp_path / "k"), str(alone))
    assert "DEMO_INFO_MMAP" not in (alone / "headers.txt").read_text()
    out = tmp_path / "env"
    write.generate(str(tmp_path / "k"), str(out), if_sources=[str(tmp_path / "src")])
    text = (out / "headers.txt").read_text()
    assert "#define DEMO_INFO_MMAP_IOMEM DEMO_INFO_MMAP\n" in text
    assert "#define DEMO_INFO_MMAP 0x00000001\n" in text
    assert "DEMO_UNTESTED" not in text

    body = "#if DEMO_INFO_MMAP_IOMEM\nint f(void) { return 0; }\nEXPORT_SYMBOL(f);\n#endif\n"
    facts = scan(
        lex("#include <sound/pcm.h>\n" + body, {}, None, HeaderMacros(str(out / "headers.txt"))),
        "t.c",
        {},
    )
    assert [e.symbol for e in facts.exports] == ["f"]


def test_deep_nesting_parses_and_leaves_the_recursion_limit_alone(tmp_path: Path) -> None:
    """5,000 nested parentheses need a deep stack for pycparser and for the walks of its
    tree; both run in the deep-stack thread, and the caller's recursion limit is the same
    after (a raised limit left behind turns the next deep recursion anywhere else in the
    process into a segfault instead of a RecursionError)."""
    depth = 5000
    src = tmp_path / "deep.c"
    src.write_text(
        "#include <linux/module.h>\n"
        f"static int deep(int x) {{ return {'(' * depth}x{')' * depth}; }}\n"
        "int deep_other(int y);\n"
        "int deep_user(int y) { return deep(y) + deep_other(y); }\n"
    )
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        res = run(src)
        assert sys.getrecursionlimit() == 1000
    finally:
        sys.setrecursionlimit(before)
    assert res.ok, res.error
    assert "deep_other" in res.references
    assert "deep_user" in defs(res)


def test_a_macro_bomb_stops_at_cpps_output_bound(tmp_path: Path) -> None:
    """`#define X1 X0 X0` ... `X30`: gigabytes of output, held by the parent before (1.5 GB
    RSS). cpp now writes to a file under RLIMIT_FSIZE: one reason, in seconds."""
    import time

    lines = ["#include <linux/module.h>", "int f(void);", "#define X0 f();"]
    lines += [f"#define X{i} X{i - 1} X{i - 1}" for i in range(1, 31)]
    lines += ["static int b_init(void) { X30 return 0; }"]
    src = tmp_path / "bomb.c"
    src.write_text("\n".join(lines) + "\n")
    start = time.monotonic()
    res = run(src)
    assert not res.ok
    assert res.error == "cpp: output over 8 MB (a macro bomb?), not parsed"
    assert time.monotonic() - start < 60


def test_a_header_prototype_is_one_extern_of_the_module_however_many_files_include_it(
    tmp_path: Path,
) -> None:
    """Issue 13: each file that includes a header brings its declarations; the module keeps
    each once (the copies were most of a whole tree's memory)."""
    from kmodlint.cfront.sources import load_sources

    (tmp_path / "Kbuild").write_text("obj-m += two.o\ntwo-y := a.o b.o c.o\n")
    (tmp_path / "two.h").write_text("int shared_fn(int x);\nextern int shared_var;\n")
    for name in ("a", "b", "c"):
        body = f'#include "two.h"\nint {name}_fn(void) {{ return shared_fn(shared_var); }}\n'
        (tmp_path / f"{name}.c").write_text(body)
    files = [str(tmp_path / f"{name}.c") for name in ("a", "b", "c")]
    (module,) = load_sources([str(tmp_path)], files, None, 1, None).modules
    assert module.source is not None
    declared = [(e.name, e.loc.line) for e in module.source.externs]
    assert sorted(declared) == [("shared_fn", 1), ("shared_var", 2)]
