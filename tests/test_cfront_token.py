"""The token path of the C front end: #if selection, facts and locations, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmodlint.cfront.kbuild.kconfig import ConfigError, config_macros, read_config
from kmodlint.cfront.preprocess.condition import ConditionError, evaluate
from kmodlint.cfront.preprocess.directives import lex
from kmodlint.cfront.tokens.scan import scan
from tests.test_corpus import run_kmodlint

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CONFIG = {"CONFIG_FOO": "y", "CONFIG_BAR": "m", "CONFIG_NR": "32", "CONFIG_NAME": '"x"'}


def _facts(text: str, config: dict | None = None, **extra: str):
    macros = config_macros(config) | extra
    return scan(lex(text, macros), "t.c", macros)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("defined(CONFIG_FOO)", True),
        ("defined CONFIG_BAR", False),
        ("defined(CONFIG_BAR_MODULE)", True),
        ("IS_ENABLED(CONFIG_BAR)", True),
        ("IS_BUILTIN(CONFIG_BAR)", False),
        ("IS_MODULE(CONFIG_BAR) && !IS_MODULE(CONFIG_FOO)", True),
        ("IS_REACHABLE(CONFIG_BAR)", True),  # MODULE is defined for module objects
        ("CONFIG_NR > 16 && CONFIG_NR % 2 == 0", True),
        ("CONFIG_UNSET || 0", False),
        ("LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)", True),
        ("(1 ? 2 : 3) == 2 && 0x10 == 16 && 010 == 8 && 'A' == 65", True),
    ],
)
def test_conditions_follow_the_configuration(expression: str, value: bool) -> None:
    macros = config_macros(CONFIG) | {"MODULE": "1", "LINUX_VERSION_CODE": "393472"}
    assert evaluate(expression, macros) is value


def test_unknown_function_like_macro_is_not_guessed() -> None:
    with pytest.raises(ConditionError):
        evaluate("__has_attribute(fallthrough)", {})


def test_ifdef_blocks_select_exports_and_count_unevaluated() -> None:
    text = """
#ifdef CONFIG_FOO
EXPORT_SYMBOL(on_builtin);
#else
EXPORT_SYMBOL(off_builtin);
#endif
#if IS_ENABLED(CONFIG_BAR)
EXPORT_SYMBOL_GPL(on_module);
#elif defined(CONFIG_FOO)
EXPORT_SYMBOL(never_elif);
#endif
#if __has_attribute(x)
EXPORT_SYMBOL(unknowable);
#endif
#define LOCAL_SWITCH 1
#if LOCAL_SWITCH
EXPORT_SYMBOL(local_define);
#endif
"""
    facts = _facts(text, CONFIG, MODULE="1")
    assert [(e.symbol, e.kind, e.loc.line) for e in facts.exports] == [
        ("on_builtin", "EXPORT_SYMBOL", 3),
        ("on_module", "EXPORT_SYMBOL_GPL", 8),
        ("local_define", "EXPORT_SYMBOL", 17),
    ]
    without_config = _facts(text, None)
    assert [e.symbol for e in without_config.exports] == ["off_builtin", "local_define"]


def test_namespaces_token_string_default_and_for_modules() -> None:
    text = """
EXPORT_SYMBOL_NS(a, CXL);
EXPORT_SYMBOL_NS_GPL(b, "USB_STORAGE");
EXPORT_SYMBOL_GPL_FOR_MODULES(c, "kvm,kvm-*");
#define DEFAULT_SYMBOL_NAMESPACE "DEFNS"
EXPORT_SYMBOL(d);
"""
    facts = _facts(text)
    assert [(e.symbol, e.kind, e.namespace) for e in facts.exports] == [
        ("a", "EXPORT_SYMBOL", "CXL"),
        ("b", "EXPORT_SYMBOL_GPL", "USB_STORAGE"),
        ("c", "EXPORT_SYMBOL_GPL", "module:kvm,kvm-*"),
        ("d", "EXPORT_SYMBOL", "DEFNS"),
    ]
    from_kbuild = _facts("EXPORT_SYMBOL(e);\n", DEFAULT_SYMBOL_NAMESPACE="IIO")
    assert from_kbuild.exports[0].namespace == "IIO"


def test_definitions_declarations_and_macro_declared_names() -> None:
    text = """
static DEFINE_MUTEX(lock);
DEFINE_SHOW_ATTRIBUTE(stats)
static int __init setup(void) { return 0; }
unsigned long counter, *ptr;
extern int other(long x);
int proto(void);
static void (*hook)(int) = NULL;
struct ops { int (*fn)(void); };
static const struct ops table = { .fn = proto };
"""
    facts = _facts(text)
    defs = {
        d.name: (d.is_static, d.is_function, d.section, d.ctype) for d in facts.definitions.values()
    }
    assert defs["setup"] == (True, True, "init", "int(void)")
    assert defs["counter"] == (False, False, None, "unsigned long")
    assert defs["ptr"] == (False, False, None, "unsigned long *")
    assert defs["hook"][:2] == (True, False)
    assert defs["table"][:2] == (True, False)
    assert "fn" not in defs
    externs = {e.name: (e.is_function, e.explicit_extern, e.ctype) for e in facts.externs}
    assert externs == {"other": (True, True, "int(long)"), "proto": (True, False, "int(void)")}
    assert {"lock", "stats"} <= facts.macro_names
    assert "proto" in facts.references  # the address taken in the initializer


def test_module_macros_params_and_driver_helpers() -> None:
    text = """
MODULE_LICENSE("Dual BSD/GPL");
MODULE_DESCRIPTION("two " "parts");
MODULE_IMPORT_NS(USB_STORAGE);
MODULE_IMPORT_NS("CXL");
module_param_named(debug, drv_debug, int, 0644);
module_param_array(ids, ushort, &nids, 0444);
module_platform_driver(my_driver);
"""
    facts = _facts(text)
    assert [(m.tag, m.value, m.loc.line) for m in facts.modinfo] == [
        ("license", "Dual BSD/GPL", 2),
        ("description", "two parts", 3),
        ("import_ns", "USB_STORAGE", 4),
        ("import_ns", "CXL", 5),
    ]
    assert [(p.name, p.variable, p.type_name, p.perm) for p in facts.params] == [
        ("debug", "drv_debug", "int", "0644"),
        ("ids", "ids", "ushort", "0444"),
    ]
    assert facts.init is not None and facts.exit is not None  # the helper defines both


def test_config_file_reading(tmp_path: Path) -> None:
    config = tmp_path / ".config"
    config.write_text('# comment\nCONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D="s"\n')
    assert read_config(str(config)) == {"CONFIG_A": "y", "CONFIG_B": "m", "CONFIG_D": '"s"'}
    (tmp_path / "empty").write_text("hello\n")
    with pytest.raises(ConfigError):
        read_config(str(tmp_path / "empty"))
    bad = run_kmodlint(
        "check", str(CORPUS / "km000-seeds-mod1-mod2"), "--config", str(tmp_path / "no")
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_config_decides_which_objects_and_blocks_are_analysed(tmp_path: Path) -> None:
    tree = tmp_path / "drv"
    tree.mkdir()
    (tree / "Kbuild").write_text("obj-$(CONFIG_DRV_A) += drva.o\nobj-$(CONFIG_DRV_B) += drvb.o\n")
    for name in ("drva", "drvb"):
        (tree / f"{name}.c").write_text(
            "#include <linux/module.h>\n"
            f"int {name}_api(void) {{ return 0; }}\n"
            f"EXPORT_SYMBOL({name}_api);\n"
            "#ifdef CONFIG_DRV_EXTRA\n"
            f"int {name}_extra(void) {{ return 1; }}\n"
            f"EXPORT_SYMBOL({name}_extra);\n"
            "#endif\n"
            'MODULE_LICENSE("GPL");\n'
        )
    config = tmp_path / "config"
    config.write_text("CONFIG_DRV_A=m\nCONFIG_DRV_EXTRA=y\n")
    result = run_kmodlint(
        "symbols",
        str(tree),
        "--config",
        str(config),
        "--kernel",
        "none",
        "--format",
        "json",
        "--no-cache",
    )
    document = json.loads(result.stdout)
    assert [m["name"] for m in document["modules"]] == ["drva"]
    assert [e["symbol"] for e in document["modules"][0]["exports"]] == ["drva_api", "drva_extra"]
    assert document["files"]["skipped_by_config"] == 1
    assert "not built by this configuration" in result.stderr
    unconfigured = run_kmodlint(
        "symbols",
        str(tree),
        "--config",
        "none",
        "--kernel",
        "none",
        "--format",
        "json",
        "--no-cache",
    )
    modules = json.loads(unconfigured.stdout)["modules"]
    assert [m["name"] for m in modules] == ["drva", "drvb"]
    assert all(len(m["exports"]) == 1 for m in modules)
    assert "#ifdef CONFIG_* blocks count as off" in unconfigured.stderr


def test_if_sees_the_macros_of_the_kernel_headers_the_file_includes(tmp_path: Path) -> None:
    """fs/nfs/inode.c exports _nfs_display_fhandle under `#ifdef NFS_DEBUG`, which
    <linux/nfs_fs.h> defines (CONFIG_SUNRPC_DEBUG): the token path must see it through the
    stub environment's include graph, only for files that include it, and not after #undef.
    """
    from kmodlint.cfront.preprocess.header_macros import HeaderMacros

    env = tmp_path / "headers.txt"
    env.write_text(
        "linux/nfs_fs.h\n#include <linux/sunrpc/debug.h>\n#define NFS_DEBUG\n"
        "linux/sunrpc/debug.h\n#define RPC_DEBUG_LEVEL 2\n#define ifdebug(fac) if (1)\n"
        "linux/other.h\n#define OTHER_ONLY 1\n"
    )
    headers = HeaderMacros(str(env))
    body = (
        "#ifdef NFS_DEBUG\nvoid a(void) {}\nEXPORT_SYMBOL_GPL(a);\n#endif\n"
        "#if RPC_DEBUG_LEVEL > 1 && defined(ifdebug)\nvoid b(void) {}\nEXPORT_SYMBOL(b);\n#endif\n"
        "#if OTHER_ONLY\nvoid c(void) {}\nEXPORT_SYMBOL(c);\n#endif\n"
        "#ifdef CONFIG_NFS_DEBUG_HEADER\nvoid d(void) {}\nEXPORT_SYMBOL(d);\n#endif\n"
    )

    def exports(text: str) -> list[str]:
        facts = scan(lex(text, {}, None, headers), "t.c", {})
        return sorted(e.symbol for e in facts.exports)

    assert exports("#include <linux/nfs_fs.h>\n" + body) == ["a", "b"]
    assert exports(body) == []  # nothing included: unknown names are 0, as cpp says
    assert exports("#include <linux/nfs_fs.h>\n#undef NFS_DEBUG\n" + body) == ["b"]
    # a header's macro only counts from the #include on
    assert exports(body + "#include <linux/nfs_fs.h>\n") == []


HEADER_WITH_EVERY_LINE_SHAPE = (
    "#ifndef DEMO_H\n#define DEMO_H\n"
    "#define REG_A 0x00000001L // mask\n"
    "#define REG_B REG_A\n"
    "#define EMPTY\n"
    "/* #define COMMENTED_OUT 1\n#define ALSO_COMMENTED 1 */\n"
    "int x; /* a comment that ends\n on the next line */ #define NOT_A_DIRECTIVE 1\n"
    "/* a comment\n that ends */ #define AFTER_COMMENT 2\n"
    "#define JOINED \\\n  (3 + \\\n   4)\n"
    "#define OBJECT_NOT_FUNCTION\\\n(x) x\n"
    "#define FUNCTION(x) ((x) + 1)\n"
    '#define URL "http://example.org/*not a comment*/"\n'
    "#define AFTER_URL 5\n"
    "#if REG_A && JOINED == 7\n#define BOTH 1\n#else\n#define NEITHER 1\n#endif\n"
    "#undef REG_B\n"
    '#include "inner.h"\n'
    "#endif\n"
)


def _program_shape(program: list) -> list:
    from kmodlint.cfront.preprocess import directives

    shape = []
    for op in program:
        if op[0] == directives._COND:
            shape.append(("cond", op[1], op[2], [t.text for t in op[3]]))
        elif op[0] == directives._FUNCTION:
            shape.append(("function", op[1], op[2][0], [t.text for t in op[2][1]]))
        elif op[0] == directives._INCLUDE_OP:
            shape.append(("include", [t.text for t in op[1]]))
        elif op[0] == directives._DEFINES:
            shape.append(("defines", list(op[1].items())))
        else:
            shape.append(op)
    return shape


@pytest.mark.parametrize(
    "text",
    [
        HEADER_WITH_EVERY_LINE_SHAPE,
        HEADER_WITH_EVERY_LINE_SHAPE.replace("\n", "\r\n"),
        '#define SPANS "a\\\nb"\n#define AFTER 1\n',  # a literal across lines
    ],
)
def test_header_programs_read_lines_as_the_tokenizer_does(text: str) -> None:
    """A driver's own headers are compiled line by line (register headers are 100k plain
    #defines); the result must be what the token-by-token reading gives, comments,
    continuations, literals and line numbers included."""
    from kmodlint.cfront.lex.tokenizer import tokenize
    from kmodlint.cfront.preprocess import directives

    fast = directives._compile_header(text)
    reference = directives._compile_tokens(tokenize(text))
    assert _program_shape(fast) == _program_shape(reference)


def test_a_driver_header_defines_what_cpp_would_define() -> None:
    headers = {"demo.h": HEADER_WITH_EVERY_LINE_SHAPE, "inner.h": "#define INNER 1\n"}
    lexed = lex('#include "demo.h"\nint y;\n', {}, headers.get)
    table = lexed.table
    assert table["REG_A"] == "0x00000001L" and table["EMPTY"] == ""
    assert table["JOINED"] == "( 3 + 4 )" and table["OBJECT_NOT_FUNCTION"] == "( x ) x"
    assert table["AFTER_COMMENT"] == "2" and table["AFTER_URL"] == "5"
    assert table["BOTH"] == "1" and table["INNER"] == "1" and "FUNCTION()" in table
    for absent in ("COMMENTED_OUT", "ALSO_COMMENTED", "NOT_A_DIRECTIVE", "NEITHER", "REG_B"):
        assert absent not in table
    assert lexed.functions["FUNCTION"][0] == ["x"]


def test_kernel_source_regenerates_the_stub_environment(tmp_path: Path) -> None:
    """`--kernel-source DIR`: the stub headers come from the user's own tree, so a loop
    macro only that tree defines parses, and a number its header defines (and its code
    tests) decides which export is built; the shipped environment knows neither."""
    kernel = tmp_path / "linux"
    (kernel / "include" / "linux").mkdir(parents=True)
    (kernel / "Makefile").write_text("VERSION = 6\n")
    (kernel / "include" / "linux" / "mydemo.h").write_text(
        "#define MYDEMO_HAS_FAST 1\n"
        "#define mydemo_for_each(pos, head) for (pos = (head); pos; pos = pos->next)\n"
    )
    # a number is kept where the tree's own code tests it (kernel/demo.c here)
    (kernel / "kernel").mkdir()
    (kernel / "kernel" / "demo.c").write_text("#if MYDEMO_HAS_FAST\nint fast;\n#endif\n")
    drv = tmp_path / "drv"
    drv.mkdir()
    (drv / "Kbuild").write_text("obj-m += fastdrv.o\n")
    (drv / "fastdrv.c").write_text(
        "#include <linux/module.h>\n#include <linux/mydemo.h>\n"
        "struct node { struct node *next; };\n"
        "int fastdrv_count(struct node *head)\n{\n\tstruct node *n;\n\tint c = 0;\n"
        "\tmydemo_for_each(n, head) {\n\t\tc++;\n\t}\n\treturn c;\n}\n"
        "#if MYDEMO_HAS_FAST\nEXPORT_SYMBOL_GPL(fastdrv_count);\n#endif\n"
    )
    env = {"KMODLINT_CACHE_DIR": str(tmp_path / "cache"), "XDG_CACHE_HOME": str(tmp_path)}
    common = ("symbols", str(drv), "--kernel", "none", "--config", "none", "--format", "json")

    def run(*extra: str) -> dict:
        done = run_kmodlint(*common, *extra, env_extra=env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    own = run("--kernel-source", str(kernel))
    shipped = run()
    assert own["files"]["with_ast"] == 1 and shipped["files"]["with_ast"] == 0
    assert [e["symbol"] for e in own["modules"][0]["exports"]] == ["fastdrv_count"]
    assert shipped["modules"][0]["exports"] == []
    # generated into the cache folder the run was given, never elsewhere (issue 11)
    chosen = tmp_path / "chosen"
    again = run("--kernel-source", str(kernel), "--cache-dir", str(chosen))
    assert again["modules"][0]["exports"] == own["modules"][0]["exports"]
    assert len(list(chosen.glob("stubenv-src-*/prelude.h"))) == 1
    assert len(list((tmp_path / "cache").glob("stubenv-src-*"))) == 1  # the first run's


def test_a_doubling_define_chain_is_evaluated_once_per_macro() -> None:
    """`#define A1 (A0 + A0)` ... `A19` under `#if`: 2^19 evaluations (109 s for a file
    of eight such lines) before each macro's value was kept for the expression."""
    import time

    macros = {"A0": "1"} | {f"A{i}": f"(A{i - 1} + A{i - 1})" for i in range(1, 20)}
    start = time.monotonic()
    assert evaluate("A19 == 524288", macros)
    assert time.monotonic() - start < 1
    with pytest.raises(ConditionError):  # a chain over 20 deep stays "cannot tell"
        evaluate("B30", {"B0": "1"} | {f"B{i}": f"(B{i - 1} + 1)" for i in range(1, 31)})


def test_no_c_preprocessor_is_one_note_and_the_token_scan_still_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without cpp every file used to lose all its facts (the exception escaped the AST
    path into the file's crash handler): now one note, and the token scan's findings."""
    from kmodlint import cli

    monkeypatch.setenv("PATH", str(tmp_path))  # no cpp, no gcc
    monkeypatch.delenv("KMODLINT_CPP", raising=False)
    corpus = Path(__file__).resolve().parent.parent / "corpus"
    case, target = corpus / "km301-unresolved-symbol", corpus / "targets" / "deb-6.1.0-56"
    args = ["check", str(case), "--config", "none", "--kernel", str(target)]
    status = cli.main([*args, "--isolated", "--no-cache"])
    out, err = capsys.readouterr()
    notes = [line for line in err.splitlines() if "no C preprocessor found" in line]
    assert len(notes) == 1, err
    assert "token scan only" in notes[0]
    assert "unparsable-source" not in out
    assert "mod2.c:17:" in out and "[KM301 unresolved-symbol]" in out
    assert "[KM603 extern-in-source]" in out
    assert status == 1


@pytest.mark.parametrize(
    "expression",
    ["-1 / 2 == 0", "-7 / 2 == -3", "-7 % 2 == -1", "7 % -2 == 1", "!(!2 & 1)", "010 == 8"],
)
def test_if_arithmetic_is_c_arithmetic(expression: str) -> None:
    """One `#if` evaluator with C's integer semantics (truncating division, C `%`, `!`
    binding tighter than `&`), for the token path and for the stub generator, which used
    Python's eval() (where -1 // 2 == -1 and `not 2 & 1` is `not (2 & 1)`)."""
    from kmodlint.cfront.stubenv.conditions import CondEvaluator

    assert evaluate(expression, {})
    assert CondEvaluator({}).evaluate(expression) is True
    assert CondEvaluator({}).evaluate(f"!({expression})") is False


def test_if_negative_shift_is_unknown_not_a_crash() -> None:
    with pytest.raises(ConditionError):
        evaluate("1 << -1", {})


def test_a_file_including_itself_is_bounded_and_said_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .c file that includes itself 8 times with no guard was k^9 header applications in
    the token scan (> 200 s, found by tests/fuzz); now at most MAX_INCLUDES, one line."""
    import time

    from kmodlint import cli

    src = tmp_path / "selfinc.c"
    src.write_text(
        "#include <linux/module.h>\n" + '#include "selfinc.c"\n' * 8 + 'MODULE_LICENSE("GPL");\n'
    )
    start = time.monotonic()
    args = ["check", str(tmp_path), "--kernel", "none", "--config", "none", "--isolated"]
    cli.main([*args, "--no-ast", "--no-cache", "--format", "json"])
    assert time.monotonic() - start < 30
    findings = json.loads(capsys.readouterr().out)["findings"]
    said = [f["message"] for f in findings if "quoted includes" in f["message"]]
    assert said == [
        "more than 2000 quoted includes applied (a header including itself?): the token scan "
        "read the file partly"
    ]


def test_a_self_including_file_cpp_refuses_too_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by tests/fuzz: with the AST, a file including itself hit both the token scan's
    include budget and cpp's include depth: two lines for one file. Now the AST's line
    says both."""
    from kmodlint import cli

    src = tmp_path / "fuzzed.c"
    src.write_text("#include <linux/module.h>\n" + '#include "fuzzed.c"\n' * 3)
    args = ["check", str(tmp_path), "--kernel", "none", "--config", "none", "--isolated"]
    cli.main([*args, "--no-cache", "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    about_it = [f["message"] for f in findings if f["code"] == "KM901"]
    assert len(about_it) == 1
    assert "not parsed as C" in about_it[0] and "quoted includes" in about_it[0]
