"""Each chapter's figures, drawn from its cached results: one module per chapter."""
