"""Statutes as data, the business-day calendar, and deadline arithmetic."""
