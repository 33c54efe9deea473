"""JAX provider workers and the task scheduler (planned)."""
