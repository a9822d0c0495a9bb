"""Fuzzing kmodlint's readers with Hypothesis (issue 11, deliverable 6).

Each input family (`families.FAMILIES`) is a Hypothesis strategy of hostile inputs and a
check that feeds one of them to kmodlint in this process (library functions and
`kmodlint.cli.main`) and asserts what the issue promises: no exception escapes, a bad
file costs exactly one diagnostic and the rest of the run is intact, and one input takes
bounded time.

- `tests/fuzz/test_fuzz.py` runs a few dozen inputs per family in the normal suite
  (KMODLINT_FUZZ_EXAMPLES overrides the count);
- `python -m tests.fuzz --long --minutes N` runs every family for N minutes in its own
  process and prints, per family: inputs tried / handled cleanly / peak RSS / max seconds.
"""
