"""Tests of promoter.forges (a package, so that test module names need not be unique)."""
