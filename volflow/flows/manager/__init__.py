"""The volume-manager flow: create the volume on its backend."""
