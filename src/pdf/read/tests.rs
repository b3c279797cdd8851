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
