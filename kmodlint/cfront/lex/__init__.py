"""C text to C tokens: the tokenizer, comments and line continuations, keywords."""
