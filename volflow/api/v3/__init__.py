"""The controllers of the v3 API, one module per resource."""
