"""Dataset preparers: real datasets read from files shipped inside registry packages.

Each preparer writes ``data/prepared/<model>/<split>/...`` (git-ignored) and a ``MANIFEST.json``
with row counts and checksums; a rerun whose manifest still matches the files is a no-op.
"""
