"""Sphinx configuration of volflow's documentation (``tox -e docs``).

The theme is Sphinx's own (alabaster): the build needs no network. The
configuration reference is generated from the options themselves by
oslo.config's ``show-options`` directive; code shown in the guide is
``literalinclude``-d from the modules by name, so a renamed function
breaks the build (``-W`` makes every warning an error).
"""

project = 'volflow'
copyright = '2026, the volflow authors'
author = 'the volflow authors'

extensions = [
    'oslo_config.sphinxext',
]

master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'sphinx'
html_theme = 'alabaster'
html_theme_options = {
    'description': "Cinder's create-volume taskflow, runnable",
    'fixed_sidebar': True,
    'page_width': '1100px',
    'sidebar_width': '240px',
}
html_static_path = []
nitpicky = False
