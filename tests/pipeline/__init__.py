"""Tests of the promotion pipeline (promoter.promote and its stages)."""
