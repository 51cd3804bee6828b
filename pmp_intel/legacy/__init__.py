"""Import of the legacy Maia SQLite files (Alembic revision 0002; docs/legacy-migration.md).

>>> from pmp_intel.legacy.importer import import_legacy, ImportOptions  # doctest: +SKIP
>>> with engine.begin() as connection:  # doctest: +SKIP
...     report = import_legacy(connection, "~/.maia/databases/intelligence", ImportOptions())
"""
