"""The Excel backend: reads values from an .xlsx package and patches only the parts it owns."""

from sheetsync.backends.excel.workbook import ExcelWorkbook

__all__ = ["ExcelWorkbook"]
