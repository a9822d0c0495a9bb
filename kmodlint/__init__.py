"""kmodlint: find the reasons the kernel would refuse a module, before it is built or loaded."""

__version__ = "0.1.0"
