"""What managers read: report content (charts today; figures, PDF and XLSX with the report e-mails)."""
