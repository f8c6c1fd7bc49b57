"""Reading a spreadsheet the municipality made: a CSV (any of Excel's encodings and separators)
or an XLSX file, as numbered rows, and refusing it with every wrong row listed. Used by the
import of contact volumes and kerncijfers (volumes.py)."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class RowError:
    row: int  # as numbered in a spreadsheet: the header is row 1
    message: str

    def __str__(self) -> str:
        return _("Rij %(row)s: %(message)s") % {"row": self.row, "message": self.message}


class VolumeImportError(Exception):
    """The file was refused; ``errors`` lists what is wrong, by row. Nothing was imported."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


def read_table(file: BinaryIO, *, filename: str) -> list[tuple[int, list[object]]]:
    """The rows of a CSV or XLSX file with their row numbers (1 = the header)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return _read_csv(file.read())
    if suffix == ".xlsx":
        return _read_xlsx(file)
    raise VolumeImportError([RowError(0, _("Kies een CSV- of XLSX-bestand (.csv of .xlsx)."))])


def _read_csv(data: bytes) -> list[tuple[int, list[object]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    first_line = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    return [(number, list(row)) for number, row in enumerate(reader, start=1)]


def _read_xlsx(file: BinaryIO) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise VolumeImportError([RowError(0, _("Dit is geen geldig Excel-bestand (.xlsx)."))]) from exc
    try:
        sheet = workbook.worksheets[0]
        return [(number, list(row)) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell(row: list[object], index: int) -> object:
    value = row[index] if index < len(row) else None
    return value.strip() if isinstance(value, str) else value


def find_columns(header: list[object], aliases: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """The index of each column whose header is one of its aliases (case and spaces ignored)."""
    names = [str(value).strip().lower() if value is not None else "" for value in header]
    columns = {}
    for column, names_of_column in aliases.items():
        for index, name in enumerate(names):
            if name in names_of_column:
                columns[column] = index
                break
    return columns
