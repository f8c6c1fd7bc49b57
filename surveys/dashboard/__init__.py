"""The staff workspace inside the Django admin: the dashboard is the landing page."""
