"""A language server for `.sbm` standards (`sbm lsp`), on pygls.

The protocol wiring is `server`; what it answers is worked out by small modules that
know nothing of the protocol: `analysis` (one check of a document on the editor's
text), `index` (every name of a file and where it stands), `view` (a document's
current text against its last check: what is under the cursor, definitions,
references, renames), `hover`, `completion`, `symbols` (outline and formatting),
`diagnostics` (the checker's diagnostics and quick fixes in the protocol's terms)
and `positions` (offsets to the protocol's lines and UTF-16 columns).
"""
