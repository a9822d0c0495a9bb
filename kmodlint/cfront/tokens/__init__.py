"""The token path: facts a token scan proves without parsing C (``scan``), and the C types
it reads from declarations (``ctype``)."""
