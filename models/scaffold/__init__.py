"""Bring your own data: `tfxp model new` turns a CSV with a label column into a model package.

* ``profile``: column kinds, the task, label and leakage checks, the split and the naive baseline
  (pure functions over pandas objects);
* ``schema``: the curated TFDV schema with measured drift/skew thresholds;
* ``dataset``: the generated model's ``prepare_data`` (hash split, idempotent);
* ``writer``: renders ``template/*.py.tmpl`` into the package and records where it went.
"""
