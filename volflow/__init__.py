"""volflow: Cinder's create-volume workflow on upstream taskflow."""
