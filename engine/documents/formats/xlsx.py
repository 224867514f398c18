"""Excel workbooks (.xlsx), through openpyxl.

String cells only: formulas, numbers, dates and booleans are never touched, nor are
sheet names (formulas refer to them). A cell with rich text keeps its runs (bold,
colour) around the aligned words. openpyxl does not keep charts and images of a
workbook it rewrites; workbooks with them lose them (a known openpyxl limit).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from dragoman.engine.documents.base import (
    SPREADSHEET_LIMITS,
    DocumentFormat,
    LoadedDocument,
    register_format,
    saved_with,
)
from dragoman.engine.documents.errors import CorruptDocument
from dragoman.engine.documents.inline import Run, decode_runs, encode_runs


def _rich_unit(loaded: LoadedDocument, cell: Any) -> None:
    from openpyxl.cell.rich_text import CellRichText, TextBlock

    runs = [
        Run(block.text, repr(block.font), block)
        if isinstance(block, TextBlock)
        else Run(str(block), None, block)
        for block in cell.value
    ]
    markup = encode_runs(runs)

    def apply(translation: str) -> None:
        blocks: list[Any] = []
        for run, text in decode_runs(translation, markup):
            node = run.node
            blocks.append(TextBlock(node.font, text or "") if isinstance(node, TextBlock) else text)
        cell.value = CellRichText(blocks)

    loaded.add(markup.markup, apply, markup.tagged)


@register_format
class Xlsx(DocumentFormat):
    """An Excel workbook."""

    name = "xlsx"
    mime_types = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)
    extensions = (".xlsx",)
    zipped = True
    limits = SPREADSHEET_LIMITS

    def load(self, content: bytes) -> LoadedDocument:
        import openpyxl
        from openpyxl.cell.rich_text import CellRichText

        try:
            workbook = openpyxl.load_workbook(io.BytesIO(content), rich_text=True)
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as error:
            raise CorruptDocument(f"the file is not a valid .xlsx workbook: {error}") from error
        loaded = LoadedDocument()
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type != "s" or cell.value is None:
                        continue
                    if isinstance(cell.value, CellRichText):
                        _rich_unit(loaded, cell)
                    elif isinstance(cell.value, str):
                        loaded.add(cell.value, lambda t, cell=cell: setattr(cell, "value", t))

        loaded.save = saved_with(workbook.save)
        return loaded
