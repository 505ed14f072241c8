"""Custom TFX components: the data gate, the stable baseline (with the Evaluator that accepts an
empty one), the versioned Pusher and the local infra validator."""
