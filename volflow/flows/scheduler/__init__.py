"""The scheduler flow: build the request spec, choose a backend."""
