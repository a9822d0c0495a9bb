"""kmodlint's C front end, in the order a compiler front end runs:

- ``kbuild/``: which ``.c`` files make which module, and with which flags (a GNU make
  interpreter for Kbuild files, the kernel's architecture, dkms.conf, the ``.config``);
- ``lex/``: the C tokenizer, comments and line continuations, keywords;
- ``preprocess/``: ``#if`` evaluation (``condition.py``, the one evaluator), the token
  path's directive handling (``directives.py``), cpp against the stub kernel (``cpp.py``);
- ``tokens/``: the token path's facts (exports, modinfo, parameters, init/exit, references);
- ``ast/``: GNU C to ISO C, pycparser, and the walk of its tree;
- ``stubenv/``: the stub kernel (data) and its generator.

``sources.load_sources`` is the entry point; ``frontend.analyse_source`` analyses one file;
``assemble.build_module`` makes a module of a module's files.
"""
