"""Console entry points of the agents."""
