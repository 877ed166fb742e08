#!/usr/bin/env python3
"""Checks a Kakehashi export directory the way its readers will open it.

    scripts/verify-export.py DIR [--xlsx] [--expect TEXT]...

Run it with the python that scripts/python-venv.sh prints when the export is a workbook or
--xlsx is given: it reads workbooks with openpyxl.

- every file named in manifest.json exists, with the manifest's byte count and SHA-256;
- CSV files start with a UTF-8 byte-order mark, end every record with CRLF, parse with
  Python's csv module, have as many cells in every row as in the header, and hold the
  manifest's row count; JSON Lines files parse line by line and hold the manifest's row count;
- workbooks (`--format xlsx`) open with openpyxl, have the information sheet and then the
  manifest's sheets with its row counts, a text header, a frozen header row, and typed cells:
  ids and 法人番号 are text, dates are dates, amounts and counts numbers, flags booleans;
- with --xlsx, LibreOffice (soffice --headless --convert-to xlsx) opens every CSV file and
  every workbook and saves it again; openpyxl reads what it saved: every CSV header cell is
  intact (whole cells, however LibreOffice splits them into rich-text runs), a workbook keeps
  its sheets, rows and types, and every --expect text is somewhere in a cell. The CSV
  conversion names the filter's options (comma, double quote, UTF-8): LibreOffice 7.4's
  headless import ignores the byte-order mark and reads a single-byte charset unless told
  (its import dialog and Excel detect the BOM).

Prints a JSON summary on stdout; exits 1 with the reason on stderr when a check fails.
"""
import argparse
import csv
import glob
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile


def fail(message):
    print(f"verify-export: {message}", file=sys.stderr)
    sys.exit(1)


def check_csv(path, data, expected_rows):
    if not data.startswith(b"\xef\xbb\xbf"):
        fail(f"{path}: no UTF-8 byte-order mark")
    if not data.endswith(b"\r\n"):
        fail(f"{path}: the last record does not end with CRLF")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        fail(f"{path}: no header row")
    header = rows[0]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            fail(f"{path}: record {number} has {len(row)} cells, the header {len(header)}")
    # Every record separator outside quotes is CRLF: re-joining the parsed records with CRLF
    # (quoting as the writer does) gives back the file.
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    if out.getvalue() != text:
        fail(f"{path}: records are not separated by CRLF or quoting differs from RFC 4180")
    if len(rows) - 1 != expected_rows:
        fail(f"{path}: {len(rows) - 1} rows, the manifest says {expected_rows}")
    return header


def check_jsonl(path, data, expected_rows):
    # Split on LF only: JSON leaves U+2028 and U+2029 unescaped, and they are not line ends here.
    lines = [line for line in data.decode("utf-8").split("\n") if line]
    if data and not data.endswith(b"\n"):
        fail(f"{path}: the last line does not end with LF")
    for number, line in enumerate(lines, start=1):
        try:
            if not isinstance(json.loads(line), dict):
                fail(f"{path}: line {number} is not a JSON object")
        except json.JSONDecodeError as error:
            fail(f"{path}: line {number}: {error}")
    if len(lines) != expected_rows:
        fail(f"{path}: {len(lines)} rows, the manifest says {expected_rows}")


def load_openpyxl():
    try:
        import openpyxl  # noqa: F401 (scripts/python-venv.sh installs it into .build/venv)
    except ImportError:
        fail("openpyxl is not installed; run with the python that scripts/python-venv.sh prints")
    import openpyxl
    return openpyxl


# Column types a workbook must keep, per sheet (the table's name in the manifest), by Japanese
# or English header. Columns not named here may hold text or be empty.
TYPES = {
    "cases": {
        "text": ["案件ID", "id", "支援先ID", "organization_ids"],
        "date": ["登録日", "created", "更新日", "updated"],
        "number": ["契約金額（円）", "amount_yen", "登録年度", "fiscal_year"],
        "bool": ["非開示", "redacted", "製品化", "product_launched", "好事例", "good_practice",
                 "ライセンス契約締結", "license_signed"],
    },
    "events": {
        "text": ["活動ID", "id", "案件ID", "case"],
        "date": ["日付", "date"],
        "number": ["年度", "fiscal_year"],
        "bool": ["非開示", "redacted"],
    },
    "organizations": {
        "text": ["支援先ID", "id", "法人番号", "corporate_number"],
        "bool": ["非開示", "redacted"],
    },
    "indicators": {"number": ["年度", "fiscal_year"], "numbers_from": 4},
    "referrals": {"number": ["年度", "fiscal_year", "紹介件数", "referrals"]},
    "good-practices": {
        "text": ["案件ID", "case", "教訓ID", "lesson_id"],
        "date": ["日付", "lesson_date"],
        "number": ["年度", "fiscal_year"],
    },
}


def check_types(where, table, header, rows, strict_bool=True):
    """Every cell of a typed column has its type: text stays text (法人番号 is never a number),
    dates are dates, numbers are numbers, booleans are booleans."""
    rules = TYPES.get(table, {})
    import datetime
    kinds = {}
    for index, name in enumerate(header):
        for kind in ("text", "date", "number", "bool"):
            if name in rules.get(kind, []):
                kinds[index] = kind
        if "numbers_from" in rules and index >= rules["numbers_from"]:
            kinds[index] = "number"
    for number, row in enumerate(rows, start=2):
        for index, kind in kinds.items():
            value = row[index] if index < len(row) else None
            if value is None:
                continue
            ok = {
                "text": isinstance(value, str),
                "date": isinstance(value, (datetime.datetime, datetime.date)),
                "number": isinstance(value, (int, float)) and not isinstance(value, bool),
                # LibreOffice keeps booleans as numbers 1/0 with a boolean format.
                "bool": isinstance(value, bool) or (not strict_bool and value in (0, 1)),
            }[kind]
            if not ok:
                fail(f"{where}: row {number}, column '{header[index]}' should be {kind}, "
                     f"holds {value!r} ({type(value).__name__})")


def read_sheets(path):
    """Every sheet of a workbook as (title, header, data rows, the worksheet)."""
    openpyxl = load_openpyxl()
    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        fail(f"{path}: openpyxl cannot open it: {error}")
    sheets = []
    for sheet in book.worksheets:
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        header = [cell for cell in rows[0]] if rows else []
        sheets.append((sheet.title, header, rows[1:], sheet))
    return sheets


def check_workbook(path, entry, reopened=False):
    """A workbook written by `export --format xlsx`: the information sheet, then one sheet per
    table with the manifest's title and row count, a header, typed cells, a frozen header row."""
    where = path + (" (as LibreOffice saved it)" if reopened else "")
    sheets = read_sheets(path)
    expected = entry.get("sheets") or []
    titles = [title for title, _, _, _ in sheets]
    if titles[1:] != [sheet["title"] for sheet in expected]:
        fail(f"{where}: sheets {titles}, the manifest says an information sheet and "
             f"{[sheet['title'] for sheet in expected]}")
    values = []
    for (title, header, rows, sheet), spec in zip(sheets[1:], expected):
        if not header or any(not isinstance(cell, str) or not cell for cell in header):
            fail(f"{where}: sheet {title} has an empty or non-text header cell: {header}")
        if len(rows) != spec["rows"]:
            fail(f"{where}: sheet {title} has {len(rows)} rows, the manifest says {spec['rows']}")
        if not reopened and sheet.freeze_panes != "A2":
            fail(f"{where}: sheet {title} does not freeze its header row")
        check_types(f"{where}: sheet {title}", spec["name"], header, rows, strict_bool=not reopened)
        values += [str(cell) for row in [header] + rows for cell in row if cell is not None]
    for _, header, rows, _ in sheets[:1]:
        values += [str(cell) for row in [header] + rows for cell in row if cell is not None]
    return values


def libreoffice_convert(paths, work, infilter=None):
    """Converts files to xlsx with LibreOffice (headless) into `work`; returns the new paths."""
    if shutil.which("soffice") is None:
        fail("soffice (LibreOffice) is not installed; apt-get install libreoffice-calc-nogui")
    profile = "file://" + os.path.join(work, "profile")
    command = ["soffice", f"-env:UserInstallation={profile}", "--headless"]
    if infilter:
        command.append(f"--infilter={infilter}")
    out = os.path.join(work, "converted")
    result = subprocess.run(command + ["--convert-to", "xlsx", "--outdir", out] + paths,
                            capture_output=True, text=True, timeout=300)
    converted = {}
    for path in paths:
        target = os.path.join(out, os.path.splitext(os.path.basename(path))[0] + ".xlsx")
        if not os.path.exists(target):
            fail(f"LibreOffice did not convert {path}: {result.stdout} {result.stderr}")
        converted[path] = target
    return converted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--xlsx", action="store_true",
                        help="also open every CSV and workbook with LibreOffice and read the result with openpyxl")
    parser.add_argument("--expect", action="append", default=[], help="text that must survive into the xlsx")
    args = parser.parse_args()

    manifest_path = os.path.join(args.directory, "manifest.json")
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        fail(f"{manifest_path}: {error}")

    headers = {}
    workbooks = {}
    for entry in manifest["files"]:
        path = os.path.join(args.directory, entry["name"])
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            fail(f"{path}: {error}")
        if len(data) != entry["bytes"]:
            fail(f"{path}: {len(data)} bytes, the manifest says {entry['bytes']}")
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            fail(f"{path}: SHA-256 {digest}, the manifest says {entry['sha256']}")
        if path.endswith(".csv"):
            headers[path] = check_csv(path, data, entry["rows"])
        elif path.endswith(".jsonl"):
            check_jsonl(path, data, entry["rows"])
        elif path.endswith(".xlsx"):
            workbooks[path] = (entry, check_workbook(path, entry))
        else:
            fail(f"{path}: unknown file type")

    if args.xlsx:
        if not headers and not workbooks:
            fail("--xlsx given but the export has no CSV files or workbooks")
        values = []
        with tempfile.TemporaryDirectory() as work:
            if headers:
                # LibreOffice 7.4's headless CSV import needs the filter's options named.
                converted = libreoffice_convert(sorted(headers), work, infilter="CSV:44,34,76,1")
                for path, header in headers.items():
                    sheets = read_sheets(converted[path])
                    _, got, rows, _ = sheets[0]
                    # openpyxl joins rich-text runs (LibreOffice splits 案件ID into 案件 + ID
                    # when Japanese fonts are installed), so whole cells compare.
                    if [cell if cell is not None else "" for cell in got] != header:
                        fail(f"{path}: the header is not intact in the LibreOffice conversion: {got}")
                    values += [str(cell) for row in [got] + rows for cell in row if cell is not None]
            for path, (entry, _) in workbooks.items():
                reopened = libreoffice_convert([path], os.path.join(work, "books"))[path]
                values += check_workbook(reopened, entry, reopened=True)
        values += [value for _, book in workbooks.values() for value in book]
        everything = "\n".join(values)
        for text in args.expect:
            if text not in everything:
                fail(f"'{text}' is not intact in the workbooks")

    summary = {"ok": True, "files": {e["name"]: e["rows"] for e in manifest["files"]}}
    sheets = {e["name"]: {s["title"]: s["rows"] for s in e["sheets"]} for e in manifest["files"] if e.get("sheets")}
    if sheets:
        summary["sheets"] = sheets
    print(json.dumps(summary, ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main()
