#!/usr/bin/env python3
"""Checks a Kakehashi export directory the way its readers will open it.

    scripts/verify-export.py DIR [--xlsx] [--expect TEXT]...

- every file named in manifest.json exists, with the manifest's byte count and SHA-256;
- CSV files start with a UTF-8 byte-order mark, end every record with CRLF, parse with
  Python's csv module, have as many cells in every row as in the header, and hold the
  manifest's row count; JSON Lines files parse line by line and hold the manifest's row count;
- with --xlsx, LibreOffice (soffice --headless --convert-to xlsx) converts every CSV file, and
  every header cell and every --expect text appears intact in the spreadsheets' strings: the
  Japanese arrived without mojibake. The conversion names the CSV filter's options
  (comma, double quote, UTF-8): LibreOffice 7.4's headless import ignores the byte-order mark
  and reads a single-byte charset unless told (its import dialog and Excel detect the BOM).

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
import zipfile


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


def xlsx_strings(directory, csv_paths):
    with tempfile.TemporaryDirectory() as work:
        profile = "file://" + os.path.join(work, "profile")
        if shutil.which("soffice") is None:
            fail("soffice (LibreOffice) is not installed; apt-get install libreoffice-calc-nogui")
        result = subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--infilter=CSV:44,34,76,1",
             "--convert-to", "xlsx",
             "--outdir", work] + csv_paths,
            capture_output=True, text=True, timeout=300)
        strings = {}
        for path in csv_paths:
            name = os.path.splitext(os.path.basename(path))[0] + ".xlsx"
            target = os.path.join(work, name)
            if not os.path.exists(target):
                fail(f"LibreOffice did not convert {path}: {result.stdout} {result.stderr}")
            with zipfile.ZipFile(target) as book:
                names = book.namelist()
                xml = book.read("xl/sharedStrings.xml").decode("utf-8") if "xl/sharedStrings.xml" in names else ""
                for sheet in [n for n in names if n.startswith("xl/worksheets/")]:
                    xml += book.read(sheet).decode("utf-8")
            strings[path] = xml
        return strings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--xlsx", action="store_true", help="also convert every CSV with LibreOffice")
    parser.add_argument("--expect", action="append", default=[], help="text that must survive into the xlsx")
    args = parser.parse_args()

    manifest_path = os.path.join(args.directory, "manifest.json")
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        fail(f"{manifest_path}: {error}")

    headers = {}
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
        else:
            fail(f"{path}: unknown file type")

    if args.xlsx:
        if not headers:
            fail("--xlsx given but the export has no CSV files")
        strings = xlsx_strings(args.directory, sorted(headers))
        everything = "".join(strings.values())
        for path, header in headers.items():
            for cell in header:
                if cell not in strings[path]:
                    fail(f"{path}: header '{cell}' is not intact in the LibreOffice conversion")
        for text in args.expect:
            if text not in everything:
                fail(f"'{text}' is not intact in the LibreOffice conversions")

    print(json.dumps({"ok": True, "files": {e["name"]: e["rows"] for e in manifest["files"]}},
                     ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main()
