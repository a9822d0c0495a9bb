"""Kernel tables without headers (issue 14): a compact, data-only file format holding the
export tables of many kernels (`format.py`), the readers that import one from a headers
folder, a linux-headers .deb or a /lib/modules tree (`importing.py`, `deb.py`), where
tables live and how `--kernel NAME` finds one (`store.py`), and the modules x kernels
matrix of `check --kernel A --kernel B` (`matrix.py`, `matrix_report.py`)."""
