// Writes a two-page A4 document with pdf-lib to the path given as the only argument: what a
// web form or a Node.js back office hands to kyso (object streams, a cross-reference stream,
// A4 as 595.28 x 841.89). pdf-lib's standard fonts are WinAnsi, hence Vietnamese without marks.
'use strict';
const fs = require('fs');
const { PDFDocument, PageSizes, StandardFonts } = require('pdf-lib');

async function main() {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node pdf-lib.js OUT.pdf');
  const doc = await PDFDocument.create();
  doc.setTitle('Giay xac nhan cu tru');
  doc.setCreationDate(new Date(Date.UTC(2026, 0, 2)));
  doc.setModificationDate(new Date(Date.UTC(2026, 0, 2)));
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const n of [1, 2]) {
    const page = doc.addPage(PageSizes.A4);
    page.drawText(`pdf-lib page ${n} of 2 - Giay xac nhan cu tru`, { x: 72.5, y: 770.25, size: 13.5, font });
    page.drawText('UBND phuong Thanh Dong', { x: 72.5, y: 750.125, size: 10, font });
  }
  fs.writeFileSync(out, await doc.save());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
