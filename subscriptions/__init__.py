"""Live events: one broadcast channel per deployment, fanned out locally to subscribers."""
