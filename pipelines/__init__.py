"""The pipeline factory, its runners, run inspection and the `tfxp` command line."""
