"""A person's edit in LibreOffice Calc, driven through UNO: run by the system Python (which has
the `uno` module from Debian's python3-uno), not the project's venv.

    python3 libreoffice_edit.py BOOK.xlsx TAB INSERT_BEFORE CELL TEXT PROFILE_DIR PORT

Opens BOOK.xlsx, inserts an empty column before 1-based column INSERT_BEFORE of TAB, types TEXT
into CELL (after the insert), and saves the workbook in place as .xlsx, as a person would.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue


def _prop(name: str, value: object) -> PropertyValue:
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def main() -> None:
    book, tab, before, cell, text, profile, port = sys.argv[1:8]
    url = Path(book).resolve().as_uri()
    office = subprocess.Popen(
        [
            "soffice",
            f"-env:UserInstallation={Path(profile).resolve().as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            f"--accept=socket,host=127.0.0.1,port={port};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                ctx = resolver.resolve(
                    f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
                )
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (_prop("Hidden", True),))
        sheet = doc.Sheets.getByName(tab)
        sheet.Columns.insertByIndex(int(before) - 1, 1)
        sheet.getCellRangeByName(cell).setString(text)
        doc.storeToURL(url, (_prop("FilterName", "Calc MS Excel 2007 XML"),))
        doc.close(True)
    finally:
        office.terminate()
        office.wait(30)


if __name__ == "__main__":
    main()
