"""rec_env: list-wise feed environments backed by user simulators fitted on logged data."""
