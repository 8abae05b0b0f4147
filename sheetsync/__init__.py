"""sheetsync: scores the OKRs and KPIs teams keep in spreadsheets and writes the results back."""

__version__ = "0.1.0"
