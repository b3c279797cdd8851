use super::*;

#[test]
fn refuses_non_pdf_and_garbage() {
    let limits = Limits::default();
    assert!(matches!(parse(b"hello", &limits), Err(Error::NotPdf)));
    assert!(matches!(
        parse(b"%PDF-1.7\n1 0 obj <<", &limits),
        Err(Error::PdfMalformed(_))
    ));
}

const OBJECTS: &str = "%PDF-1.7\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n\
                       2 0 obj <</Type/Pages/Kids[]/Count 0>> endobj\n";

fn repaired(pdf: &str) -> Parsed {
    let parsed = parse(pdf.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(parsed.warnings.len(), 1, "{pdf}");
    assert!(parsed.warnings[0].contains("scanning"));
    assert!(parsed.doc.catalog().is_ok());
    parsed
}

#[test]
fn damaged_cross_references_are_repaired_by_scanning() {
    // No startxref at all, a truncated table, an offset pointing elsewhere, no trailer.
    repaired(&format!("{OBJECTS}trailer <</Root 1 0 R>>\n%%EOF\n"));
    repaired(&format!(
        "{OBJECTS}xref\n0 3\n0000000000 65535 f \n00000\ntrailer <</Root 1 0 R>>\nstartxref\n{}\n%%EOF\n",
        OBJECTS.len()
    ));
    repaired(&format!(
        "{OBJECTS}xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000003 00000 n \ntrailer <</Size 3/Root 1 0 R>>\nstartxref\n{}\n%%EOF\n",
        OBJECTS.len()
    ));
    repaired(&format!("{OBJECTS}%%EOF\n"));
}

#[test]
fn an_intact_file_reads_without_warnings_and_limits_hold() {
    let table = format!(
        "xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n{:010} 00000 n \ntrailer <</Size 3/Root 1 0 R>>\nstartxref\n{}\n%%EOF\n",
        OBJECTS.find("2 0 obj").unwrap(),
        OBJECTS.len()
    );
    let pdf = format!("{OBJECTS}{table}");
    let parsed = parse(pdf.as_bytes(), &Limits::default()).unwrap();
    assert!(parsed.warnings.is_empty() && !parsed.encrypted);
    let tight = Limits {
        max_objects: 1,
        ..Limits::default()
    };
    assert!(matches!(
        parse(pdf.as_bytes(), &tight),
        Err(Error::PdfTooComplex(_))
    ));
}

#[test]
fn a_repair_keeps_what_the_xref_says_where_it_is_right() {
    // Object 2 is written twice; the xref names the first, and points object 3 nowhere.
    let head = "%PDF-1.7\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n";
    let first = "2 0 obj <</Type/Pages/Kids[]/Count 0/Which 1>> endobj\n";
    let second = "2 0 obj <</Type/Pages/Kids[]/Count 0/Which 2>> endobj\n";
    let body = format!("{head}{first}{second}");
    let pdf = format!(
        "{body}xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n{:010} 00000 n \n0000000001 00000 n \ntrailer <</Size 4/Root 1 0 R>>\nstartxref\n{}\n%%EOF\n",
        head.len(),
        body.len()
    );
    let parsed = repaired(&pdf);
    let pages = parsed.doc.get_dictionary((2, 0)).unwrap();
    assert_eq!(pages.get(b"Which").unwrap().as_i64().unwrap(), 1);
}

/// A file of `count` small objects and two streams whose /Length is an object written before
/// and after them, with a classic xref table.
fn many_objects(count: u32) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    let mut add = |pdf: &mut Vec<u8>, body: String| {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", offsets.len()).as_bytes());
    };
    add(&mut pdf, "<</Type/Catalog/Pages 2 0 R>>".into());
    add(&mut pdf, "<</Type/Pages/Kids[]/Count 0>>".into());
    add(&mut pdf, "5".into());
    add(&mut pdf, "<</Length 3 0 R>>stream\nfirst\nendstream".into());
    add(
        &mut pdf,
        "<</Length 6 0 R>>stream\nsecond\nendstream".into(),
    );
    add(&mut pdf, "6".into());
    for i in 0..count {
        add(&mut pdf, format!("<</N {i} /A [1 2 (x)]>>"));
    }
    let xref = pdf.len();
    let size = offsets.len() + 1;
    pdf.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f \n").as_bytes());
    for offset in &offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<</Size {size}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    pdf
}

/// 50 000 objects: lopdf's own `load_mem` spends minutes on this many (each object parsed
/// from the start of the file); reading object by object takes seconds.
#[test]
fn many_objects_read_linearly_and_completely() {
    let count = 50_000;
    let pdf = many_objects(count);
    let parsed = parse(&pdf, &Limits::default()).unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.doc.objects.len(), count as usize + 6);
    assert_eq!(parsed.doc.max_id, count + 6);
    let last = parsed.doc.get_dictionary((count + 6, 0)).unwrap();
    assert_eq!(
        last.get(b"N").unwrap().as_i64().unwrap(),
        i64::from(count - 1)
    );
    for (id, content) in [(4, &b"first"[..]), (5, b"second")] {
        let stream = parsed.doc.get_object((id, 0)).unwrap().as_stream().unwrap();
        assert_eq!(stream_data(&pdf, stream), content, "stream {id}");
    }
    assert!(parsed.doc.trailer.get(b"Root").is_ok());
}

/// Neither `parse` nor `writable` copies stream data (it stays in the input, a signed 50 MB
/// scan is one stream); `decoded` copies one stream out, its filters applied.
#[test]
fn stream_data_stays_in_the_input() {
    let pdf = many_objects(3);
    let parsed = parse(&pdf, &Limits::default()).unwrap();
    let doc = writable(&pdf, &Limits::default()).unwrap();
    for (id, content) in [(4, &b"first"[..]), (5, b"second")] {
        for lazy in [&parsed.doc, &doc].map(|d| d.get_object((id, 0)).unwrap().as_stream().unwrap())
        {
            assert!(lazy.content.is_empty());
            assert_eq!(
                lazy.dict.get(b"Length").unwrap().as_i64().unwrap(),
                content.len() as i64
            );
            assert_eq!(decoded(&pdf, lazy).as_deref(), Some(content));
        }
    }
}

#[test]
fn only_large_contents_are_blanked() {
    let hex = "AB".repeat(200);
    let pdf = format!("<</Contents <{hex}>/M (x)>> <</Contents <AB>>>");
    let blanked = signature_values(pdf.as_bytes());
    assert_eq!(blanked, vec![12..12 + hex.len() + 2]);
}
