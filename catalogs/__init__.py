"""The built-in catalogs, shipped with the package as atlas_xl.catalogs (CSV data only)."""
