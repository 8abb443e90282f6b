#!/bin/sh
# Renders an HTML report from `bbcsctl report --format html` with headless Chromium, to a
# PNG of the screen view and a PDF of the A4 print view, so a person can look at both.
#
#   Scripts/render-report.sh q2.html            # writes q2.png and q2.pdf beside it
#   Scripts/render-report.sh q2.html out.png    # names the PNG (the PDF follows it)
#
# Needs Chromium (Debian: apt-get install chromium). Exit status 69 when it is missing.
set -eu
if [ $# -lt 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 REPORT.html [OUT.png]" >&2
    exit 64
fi
html=$(realpath "$1")
png=${2:-${html%.html}.png}
pdf=${png%.png}.pdf
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
    echo "render-report: Chromium is not installed (Debian: apt-get install chromium)" >&2
    exit 69
fi
# --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
flags="--headless --no-sandbox --disable-gpu --hide-scrollbars"
"$browser" $flags --window-size=1280,4000 --screenshot="$png" "file://$html" 2>/dev/null
"$browser" $flags --no-pdf-header-footer --print-to-pdf="$pdf" "file://$html" 2>/dev/null
echo "wrote $png and $pdf"
