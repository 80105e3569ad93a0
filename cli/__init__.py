"""The `interp` command line (installed as the import package `interp_cli`)."""
