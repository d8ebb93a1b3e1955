"""Images: the file-backed image service (:mod:`volflow.image.fake`)."""
