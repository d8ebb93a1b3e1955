"""Volumes: the API, the volume manager, backends and their drivers."""
