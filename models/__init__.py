"""Networks, noise schedules, samplers and receivers (torch)."""
