//! New PDFs drawn with pdf-writer: the civil-status forms (`sheet`), the certification
//! statement added to certified copies (`statement`), scans wrapped into a PDF (`scan`), and
//! pre-filled certificate request forms (`request_form`).

pub mod canvas;
pub mod request_form;
pub mod scan;
pub mod sheet;
pub mod statement;

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use pdf_writer::{Chunk, Date, Filter, Finish, Pdf, Rect, Ref, TextStr};

use crate::pdf::object::deflate;
use canvas::Drawing;

/// The document information written to `/Info` and to the XMP metadata stream.
pub struct Info<'a> {
    pub title: &'a str,
    pub author: &'a str,
    pub subject: &'a str,
    pub created: DateTime<FixedOffset>,
}

const PRODUCER: &str = "kyso";

/// A PDF of `drawing`'s pages, all of `size` points.
pub fn write_pdf(drawing: &Drawing, size: [f32; 2], info: &Info<'_>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut alloc = Ref::new(1);
    let catalog = alloc.bump();
    let tree = alloc.bump();
    let info_id = alloc.bump();
    let metadata_id = alloc.bump();
    let mut fonts = Chunk::new();
    let font_refs: Vec<_> = drawing
        .fonts
        .iter()
        .map(|(name, font)| (*name, font.write(&mut fonts, &mut alloc)))
        .collect();
    let pages: Vec<(Ref, Ref)> = drawing
        .pages
        .iter()
        .map(|_| (alloc.bump(), alloc.bump()))
        .collect();

    pdf.catalog(catalog).pages(tree).metadata(metadata_id);
    pdf.pages(tree)
        .kids(pages.iter().map(|(page, _)| *page))
        .count(pages.len() as i32);
    for ((page_id, content_id), content) in pages.iter().zip(&drawing.pages) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, size[0], size[1]))
            .parent(tree)
            .contents(*content_id);
        page.resources().fonts().pairs(font_refs.iter().copied());
        page.finish();
        let packed = deflate(content);
        let mut stream = pdf.stream(*content_id, &packed.content);
        if packed.dict.has(b"Filter") {
            stream.filter(Filter::FlateDecode);
        }
    }
    pdf.extend(&fonts);
    let t = &info.created;
    let date = Date::new(t.year() as u16)
        .month(t.month() as u8)
        .day(t.day() as u8)
        .hour(t.hour() as u8)
        .minute(t.minute() as u8)
        .second(t.second() as u8)
        .utc_offset_hour((t.offset().local_minus_utc() / 3600) as i8)
        .utc_offset_minute((t.offset().local_minus_utc().abs() % 3600 / 60) as u8);
    pdf.document_info(info_id)
        .title(TextStr(info.title))
        .author(TextStr(info.author))
        .subject(TextStr(info.subject))
        .creator(TextStr(PRODUCER))
        .producer(TextStr(PRODUCER))
        .creation_date(date);
    let xmp = xmp(info);
    pdf.metadata(metadata_id, xmp.as_bytes());
    let id = openssl::sha::sha256(xmp.as_bytes())[..16].to_vec();
    pdf.set_file_id((id.clone(), id));
    pdf.finish()
}

/// XMP metadata mirroring `/Info` (Dublin Core title, creator, subject; dates; producer).
fn xmp(info: &Info<'_>) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let created = info.created.format("%Y-%m-%dT%H:%M:%S%:z");
    format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{subject}</rdf:li></rdf:Alt></dc:description>
<xmp:CreateDate>{created}</xmp:CreateDate>
<xmp:ModifyDate>{created}</xmp:ModifyDate>
<xmp:CreatorTool>{PRODUCER}</xmp:CreatorTool>
<pdf:Producer>{PRODUCER}</pdf:Producer>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#,
        title = escape(info.title),
        author = escape(info.author),
        subject = escape(info.subject),
    )
}
