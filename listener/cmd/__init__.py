"""Console entry points (each a few lines: build the configuration, run)."""
