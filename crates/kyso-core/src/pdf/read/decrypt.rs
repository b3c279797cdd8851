//! Decryption of files protected by the standard security handler with an empty user password
//! (ISO 32000-2 §7.6.4; RC4 40/128-bit, AES-128, AES-256, revisions 2–6), which viewers open
//! without asking. lopdf computes the key and decrypts one string or stream; the walk is ours
//! because its own skips nothing: a signature's `/Contents` is not encrypted (§7.6.1) and must
//! stay as written, and one string that fails to decrypt must not leave the rest undone.

use lopdf::encryption::decrypt_object;
use lopdf::{Dictionary, Document, EncryptionState, Object, ObjectId};

use crate::error::{Error, Result};

pub fn decrypt(doc: &mut Document) -> Result<()> {
    normalise_key_length(doc);
    doc.authenticate_password("")
        .map_err(|_| Error::PdfEncrypted)?;
    let state = EncryptionState::decode(&*doc, "").map_err(|_| Error::PdfEncrypted)?;
    let encrypt = doc
        .trailer
        .get(b"Encrypt")
        .and_then(Object::as_reference)
        .ok();
    for (id, object) in doc.objects.iter_mut() {
        if Some(*id) != encrypt {
            object_tree(&state, *id, object);
        }
    }
    Ok(())
}

/// `/V 1` means a 40-bit key (ISO 32000-2 Table 20), and `/V 4` a 128-bit one; writers such as
/// qpdf still add `/Length` to the former, which lopdf refuses, and its default for a missing
/// `/Length` under `/V 4` is 40 bits.
fn normalise_key_length(doc: &mut Document) {
    let Ok(id) = doc.trailer.get(b"Encrypt").and_then(Object::as_reference) else {
        return;
    };
    let Some(Object::Dictionary(dict)) = doc.objects.get_mut(&id) else {
        return;
    };
    match dict.get(b"V").and_then(Object::as_i64) {
        Ok(1) => {
            dict.remove(b"Length");
        }
        Ok(4) => dict.set("Length", 128),
        _ => {}
    }
}

fn object_tree(state: &EncryptionState, id: ObjectId, object: &mut Object) {
    match object {
        Object::Array(items) => items.iter_mut().for_each(|o| object_tree(state, id, o)),
        Object::Dictionary(dict) => dictionary(state, id, dict),
        // The xref stream and its dictionary are never encrypted (§7.5.8.2).
        Object::Stream(stream) if stream.dict.has_type(b"XRef") => return,
        Object::Stream(stream) => dictionary(state, id, &mut stream.dict),
        _ => {}
    }
    if matches!(object, Object::String(..) | Object::Stream(_)) {
        // A value that does not decrypt (a damaged AES block) stays as written.
        let _ = decrypt_object(state, id, object);
    }
}

fn dictionary(state: &EncryptionState, id: ObjectId, dict: &mut Dictionary) {
    let signature =
        dict.has(b"ByteRange") || dict.has_type(b"Sig") || dict.has_type(b"DocTimeStamp");
    for (key, value) in dict.iter_mut() {
        if !(signature && key == b"Contents") {
            object_tree(state, id, value);
        }
    }
}
