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
