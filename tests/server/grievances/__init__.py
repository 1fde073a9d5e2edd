"""Tests of grievances."""
