"""Training helpers shared by every model's run_fn."""
