#ifndef KAKEHASHI_CXLSXWRITER_SHIM_H
#define KAKEHASHI_CXLSXWRITER_SHIM_H

// libxlsxwriter (Debian's libxlsxwriter-dev) writes the `--format xlsx` workbooks of
// `kakehashi-server export`: typed cells, formats, frozen panes and column widths, without
// hand-built XML.
#include <xlsxwriter.h>

#endif
