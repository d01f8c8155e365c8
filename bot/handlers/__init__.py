"""Handlers grouped by audience: readers, feedback and corrections, admins."""
