"""Front ends: each turns one input file into model facts and knows nothing of rules."""
