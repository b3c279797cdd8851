//! New PDF documents drawn with pdf-writer and the embedded Vietnamese font.

pub mod request_form;
