"""volflow's schema migrations (Alembic), one linear chain.

``versions/NNNN_what.py`` holds one migration each; its revision id is its
file name without ``.py`` (``0001_initial``), its ``down_revision`` the
file before it. :mod:`volflow.db.sqlalchemy.migration` runs them (``volflow
db sync``) and reads the head from the file names, without importing
Alembic.

The chain owns every table of a volflow database, taskflow's persistence
tables (``logbooks``, ``flowdetails``, ``atomdetails``) included: see the
README's database section for why.
"""
