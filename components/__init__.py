"""Custom TFX components: the data gate and the versioned Pusher (and the local infra validator)."""
