"""The C front end: facts from driver sources, by a token scan and a pycparser tree."""
