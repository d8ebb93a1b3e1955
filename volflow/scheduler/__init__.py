"""Scheduling: the filter scheduler, its filters and weigher, the manager."""
