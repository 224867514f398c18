"""The office formats of the corpus: .docx, .pptx, .xlsx, .odt, .odp, .ods."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from corpus import DATE, PNG, URL, Reading, Sentence, office_bytes
from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def _docx(s: list[Sentence]) -> bytes:
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_heading(s[1].eng, level=1)
    before, word, after = s[0].split()
    paragraph = document.add_paragraph(before)
    paragraph.add_run(word).bold = True
    paragraph.add_run(after)
    words = s[2].eng.split(" ")
    paragraph = document.add_paragraph(" ".join(words[:2]) + " ")
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), paragraph.part.relate_to(URL, RELATIONSHIP_TYPE.HYPERLINK, True))
    run = paragraph.add_run(" ".join(words[2:]))
    run.italic = True
    link.append(run._r)
    paragraph._p.append(link)
    table = document.add_table(rows=2, cols=2)
    for cell, sentence in zip([c for row in table.rows for c in row.cells], s[3:7], strict=True):
        cell.text = sentence.eng
    document.sections[0].header.paragraphs[0].text = s[7].eng
    document.sections[0].footer.paragraphs[0].text = s[8].eng
    document.add_picture(io.BytesIO(PNG))
    commented = document.add_paragraph(s[9].eng)
    document.add_comment(commented.runs, text=s[10].eng, author="tests")
    _add_footnotes(document, s[11].eng)
    return office_bytes(document.save)


def _add_footnotes(document: Any, text: str) -> None:
    # python-docx cannot write footnotes; a footnotes part is added as the package
    # would hold it (the note's reference in the body is not needed for the test).
    from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:footnotes xmlns:w="{W[1:-1]}"><w:footnote w:id="1"><w:p><w:r><w:t>{text}'
        "</w:t></w:r></w:p></w:footnote></w:footnotes>"
    ).encode()
    uri = PackURI("/word/footnotes.xml")
    part = Part(uri, CONTENT_TYPE.WML_FOOTNOTES, xml, document.part.package)
    document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)


def _read_docx(content: bytes) -> Reading:
    import docx

    document = docx.Document(io.BytesIO(content))
    reading = Reading()
    for part in document.part.package.iter_parts():
        if part.content_type.startswith("image/"):
            reading.fixed.append(part.blob)
        element = getattr(part, "element", None)
        if element is None and part.content_type.endswith("footnotes+xml"):
            element = etree.fromstring(part.blob)
        if element is None or "wordprocessingml" not in part.content_type:
            continue
        reading.structure.append(part.partname)
        for table in element.iter(f"{W}tbl"):
            reading.structure.append([len(row.findall(f"{W}tc")) for row in table.iter(f"{W}tr")])
        reading.fixed += [etree.tostring(d) for d in element.iter(f"{W}drawing")]
        for p in element.iter(f"{W}p"):
            runs = [r for r in p.iter(f"{W}r") if r.find(f"{W}t") is not None or not len(r)]
            props = [r.find(f"{W}rPr") for r in runs]
            keys = {
                (etree.tostring(x) if x is not None else b"", r.getparent().tag)
                for r, x in zip(runs, props, strict=True)
            }
            reading.structure.append(sorted(keys))
            text = "".join("".join(t.text or "" for t in r.iter(f"{W}t")) for r in runs)
            if text.strip():
                reading.pieces.append(text)
            reading.bold += [r.text for r in runs if r.find(f"{W}rPr/{W}b") is not None]
    return reading


def _pptx(s: list[Sentence]) -> bytes:
    import pptx
    from pptx.util import Inches

    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = s[1].eng
    frame = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(8), Inches(2)).text_frame
    before, word, after = s[0].split()
    for text, bold in ((before, False), (word, True), (after, False)):
        run = frame.paragraphs[0].add_run()
        run.text, run.font.bold = text, bold or None
    run = frame.add_paragraph().add_run()
    run.text = s[2].eng
    run.hyperlink.address = URL
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(4), Inches(8), Inches(1)).table
    for cell, sentence in zip([c for row in table.rows for c in row.cells], s[3:7], strict=True):
        cell.text = sentence.eng
    slide.shapes.add_picture(io.BytesIO(PNG), Inches(1), Inches(6))
    slide.notes_slide.notes_text_frame.text = s[7].eng
    second = presentation.slides.add_slide(presentation.slide_layouts[5])
    second.shapes.title.text = s[8].eng
    return office_bytes(presentation.save)


def _read_pptx(content: bytes) -> Reading:
    import pptx

    presentation = pptx.Presentation(io.BytesIO(content))
    reading = Reading()
    for part in presentation.part.package.iter_parts():
        if part.content_type.startswith("image/"):
            reading.fixed.append(part.blob)
    for slide in presentation.slides:
        roots = (
            [slide.element, slide.notes_slide.element] if slide.has_notes_slide else [slide.element]
        )
        reading.structure.append([shape.shape_type for shape in slide.shapes])
        for root in roots:
            for p in root.iter(f"{A}p"):
                runs = p.findall(f"{A}r")
                props = [r.find(f"{A}rPr") for r in runs]
                reading.structure.append(
                    sorted({etree.tostring(x) if x is not None else b"" for x in props})
                )
                text = "".join(r.text for r in runs)
                if text.strip():
                    reading.pieces.append(text)
                reading.bold += [
                    r.text for r, x in zip(runs, props, strict=True)
                    if x is not None and x.get("b") == "1"
                ]  # fmt: skip
    return reading


def _xlsx(s: list[Sentence]) -> bytes:
    import openpyxl
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Report"
    sheet["A1"], sheet["A2"], sheet["A3"] = s[1].eng, s[2].eng, s[1].eng
    sheet["B1"], sheet["B2"], sheet["C1"] = 42, DATE, "=B1*2"
    before, word, after = s[0].split()
    sheet["A4"] = CellRichText([before, TextBlock(InlineFont(b=True), word), after])
    other = workbook.create_sheet("Data")
    other["A1"], other["B1"] = s[3].eng, 3.5
    return office_bytes(workbook.save)


def _read_xlsx(content: bytes) -> Reading:
    import openpyxl
    from openpyxl.cell.rich_text import CellRichText, TextBlock

    workbook = openpyxl.load_workbook(io.BytesIO(content), rich_text=True)
    reading = Reading(structure=[workbook.sheetnames])
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                rich = isinstance(cell.value, CellRichText)
                reading.structure.append((cell.coordinate, cell.data_type, rich))
                if cell.data_type != "s":
                    reading.fixed.append(cell.value)
                elif rich:
                    reading.pieces.append("".join(str(b) if isinstance(b, str) else b.text
                                                  for b in cell.value))  # fmt: skip
                    reading.bold += [b.text for b in cell.value
                                     if isinstance(b, TextBlock) and b.font.b]  # fmt: skip
                elif cell.value:
                    reading.pieces.append(cell.value)
    return reading


def _odf_bold_style(document: Any) -> Any:
    from odf.style import Style, TextProperties

    bold = Style(name="Bold", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)
    return bold


def _odf_paragraphs(s: list[Sentence], bold: Any) -> list[Any]:
    from odf.text import A as Link
    from odf.text import P, Span

    before, word, after = s[0].split()
    first = P()
    first.addText(before)
    first.addElement(Span(stylename=bold, text=word))
    first.addText(after)
    second = P()
    second.addElement(Link(href=URL, text=s[2].eng))
    return [first, second]


def _table(rows: list[list[Any]]) -> Any:
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P

    table = Table(name="Sheet1")
    table.addElement(TableColumn(numbercolumnsrepeated=len(rows[0])))
    for values in rows:
        row = TableRow()
        for value in values:
            if isinstance(value, str):
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
            else:
                formula = {"formula": value[1]} if value[1] else {}
                cell = TableCell(valuetype="float", value=value[0], **formula)
                cell.addElement(P(text=str(value[0])))
            row.addElement(cell)
        table.addElement(row)
    return table


def _odt(s: list[Sentence]) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import H

    document = OpenDocumentText()
    bold = _odf_bold_style(document)
    document.text.addElement(H(outlinelevel=1, text=s[1].eng))
    for paragraph in _odf_paragraphs(s, bold):
        document.text.addElement(paragraph)
    document.text.addElement(_table([[s[3].eng, s[4].eng], [s[5].eng, (42, "")]]))
    return office_bytes(document.write)


def _odp(s: list[Sentence]) -> bytes:
    from odf.draw import Frame, Page, TextBox
    from odf.opendocument import OpenDocumentPresentation
    from odf.style import MasterPage, PageLayout, PageLayoutProperties

    document = OpenDocumentPresentation()
    layout = PageLayout(name="Layout")
    layout.addElement(PageLayoutProperties(pagewidth="28cm", pageheight="21cm"))
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Master", pagelayoutname=layout)
    document.masterstyles.addElement(master)
    bold = _odf_bold_style(document)
    page = Page(name="One", masterpagename=master)
    document.presentation.addElement(page)
    frame = Frame(width="20cm", height="6cm", x="1cm", y="1cm")
    page.addElement(frame)
    box = TextBox()
    frame.addElement(box)
    for paragraph in _odf_paragraphs(s, bold):
        box.addElement(paragraph)
    return office_bytes(document.write)


def _ods(s: list[Sentence]) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet

    document = OpenDocumentSpreadsheet()
    rows: list[list[Any]] = [[s[1].eng, (42, "")], [s[2].eng, (84, "of:=[.B1]*2")]]
    document.spreadsheet.addElement(_table(rows))
    return office_bytes(document.write)


def _read_odf(content: bytes) -> Reading:
    from odf import opendocument, teletype, text
    from odf.table import TableCell

    document = opendocument.load(io.BytesIO(content))
    reading = Reading()
    for cell in document.getElementsByType(TableCell):
        reading.fixed.append(sorted(cell.attributes.items()))
    for kind in (text.H, text.P):
        for paragraph in document.getElementsByType(kind):
            value = teletype.extractText(paragraph)
            spans = [child for child in paragraph.childNodes if child.nodeType == 1]
            reading.structure.append([(c.qname, sorted(c.attributes.items())) for c in spans])
            reading.bold += [teletype.extractText(c) for c in spans
                             if "Bold" in str(c.attributes.values())]  # fmt: skip
            if value.strip() and not value.strip().isdigit():
                reading.pieces.append(value)
    return reading


OFFICE_BUILDERS: dict[str, tuple[str, Callable[..., bytes], Callable[[bytes], Reading], bool]] = {
    "docx": ("report.docx", _docx, _read_docx, True),
    "pptx": ("slides.pptx", _pptx, _read_pptx, True),
    "xlsx": ("sheet.xlsx", _xlsx, _read_xlsx, True),
    "odt": ("letter.odt", _odt, _read_odf, True),
    "odp": ("talk.odp", _odp, _read_odf, True),
    "ods": ("table.ods", _ods, _read_odf, False),
}
